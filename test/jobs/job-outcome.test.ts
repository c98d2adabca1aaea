import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOfImport, withCopiesCancelled, withCopy, withShares } from '../../agent/jobs/job-outcome.js';

const imported = { target: 'aws-snapshot', taskIds: ['import-snap-1'], resourceIds: ['snap-1'], imageId: 'ami-src', imageTaskId: 'import-ami-1' };
const REGIONS = ['us-west-2', 'eu-central-1', 'ap-south-1'];

test('a job outcome keeps copies in the order asked whatever order they change in, and an available copy followed again stays available', () => {
  let o = outcomeOfImport(imported);
  assert.deepEqual(o, { ...imported, copies: [], shares: [] });
  o = withCopy(o, { region: 'ap-south-1', imageId: 'ami-c', state: 'copying' }, REGIONS);
  o = withCopy(o, { region: 'us-west-2', imageId: 'ami-a', state: 'copying' }, REGIONS);
  o = withCopy(o, { region: 'eu-central-1', imageId: null, state: 'failed', code: 'CLOUD_API_ERROR', reason: 'refused' }, REGIONS);
  o = withCopy(o, { region: 'us-west-2', imageId: 'ami-a', state: 'available' }, REGIONS);
  assert.deepEqual(o.copies.map((c) => `${c.region}:${c.state}`), ['us-west-2:available', 'eu-central-1:failed', 'ap-south-1:copying']);
  // A restart follows the finished copy again and reports it copying first.
  assert.equal(withCopy(o, { region: 'us-west-2', imageId: 'ami-a', state: 'copying' }, REGIONS).copies[0]!.state, 'available');
});

test('a job outcome replaces an image\'s shares reported again after a restart, in place; a cancel while not running cancels only copies still copying', () => {
  const src = { region: 'us-east-1', imageId: 'ami-src', accounts: [{ account: '111122223333', shared: false, cloudCode: 'RequestLimitExceeded' }] };
  const copy = { region: 'us-west-2', imageId: 'ami-a', accounts: [{ account: '111122223333', shared: true }] };
  let o = withShares(withShares(outcomeOfImport(imported), src), copy);
  o = withShares(o, { ...src, accounts: [{ account: '111122223333', shared: true }] });
  assert.deepEqual(o.shares.map((s) => [s.imageId, s.accounts[0]!.shared]), [['ami-src', true], ['ami-a', true]]);

  o = withCopy(withCopy(o, { region: 'us-west-2', imageId: 'ami-a', state: 'available' }, REGIONS), { region: 'ap-south-1', imageId: 'ami-c', state: 'copying' }, REGIONS);
  const cancelled = withCopiesCancelled(o, { code: 'VMX_ABORTED', reason: 'job j-1 cancelled through the API' });
  assert.deepEqual(cancelled.copies, [
    { region: 'us-west-2', imageId: 'ami-a', state: 'available' },
    { region: 'ap-south-1', imageId: 'ami-c', state: 'cancelled', code: 'VMX_ABORTED', reason: 'job j-1 cancelled through the API' },
  ]);
});
