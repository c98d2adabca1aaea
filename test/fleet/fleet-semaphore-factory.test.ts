import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVmxferError } from '../../agent/core/errors.js';
import { openFleetSemaphore } from '../../agent/fleet/fleet-semaphore-factory.js';
import { processSemaphore } from '../../agent/fleet/fleet-semaphore-local.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import { ensureRedis, redisPrefix } from '../helpers/redis.js';

test('the fleet semaphore of a configuration: an empty job_store.url → this process\'s; redis:// → the shared one; another scheme is refused as the job store refuses it', async () => {
  assert.equal(await openFleetSemaphore(DEFAULTS.job_store), processSemaphore());
  assert.equal(await openFleetSemaphore({ url: '', prefix: 'vmxfer', lease_seconds: 60 }), processSemaphore());
  const redis = await ensureRedis();
  const shared = await openFleetSemaphore({ url: redis.url, prefix: redisPrefix('factory'), lease_seconds: 60 });
  try {
    assert.equal(shared.shared, true);
    const lease = await shared.acquire('k', 1, 'factory-test');
    assert.deepEqual(await shared.holders('k'), ['factory-test']);
    await lease.release();
  } finally {
    await shared.close();
  }
  await assert.rejects(openFleetSemaphore({ url: 'postgres://u:secret@db/vmxfer', prefix: 'vmxfer', lease_seconds: 60 }), (e) => isVmxferError(e) && e.code === 'FLEET_STORE_URL' && !e.message.includes('secret'));
});
