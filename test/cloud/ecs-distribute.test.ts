import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId, RpcError } from '../helpers/ecs-rpc-fake/ecs-world.js';
import type { CopyOutcome } from '../../agent/cloud/distribute/copy-outcome.js';
import type { ImageShares } from '../../agent/cloud/distribute/distribute-step.js';
import { runDistribute, type DistributeParams } from '../../agent/cloud/distribute/distribute-step.js';
import type { DistributeRequest } from '../../agent/cloud/distribute/distribute-options.js';
import { LocalFleetSemaphore } from '../../agent/fleet/fleet-semaphore-local.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import type { TaskSlots } from '../../agent/cloud/tasks/task-slots.js';
import type { EcsConnection } from '../../agent/cloud/ecs/ecs-clients.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { parseImportBody } from '../../agent/api/import-body.js';

let fake: EcsRpcFake;
const REGION = 'cn-hangzhou';
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };
const RETRY = { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 };
const accounts = (n: number, base: number) => Array.from({ length: n }, (_, i) => String(base + i));

const connection = (): EcsConnection => ({ region: REGION, endpoint: fake.host, protocol: 'http', accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret, retry: RETRY });

function sourceImage(encrypted = false): string {
  const id = ecsId('m');
  fake.world.images.set(id, { id, region: REGION, name: 'src', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted }] });
  return id;
}

const ownSlots = (): TaskSlots => ({ semaphore: new LocalFleetSemaphore(), caps: DEFAULTS.fleet.cloud_tasks, holder: 'test' });

function params(sourceImageId: string, request: DistributeRequest, slots = ownSlots()): DistributeParams {
  return { cloud: 'ecs', connection: connection(), slots, sourceImageId, sourceRegion: REGION, request, poll: POLL, dryRun: true };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(isVmxferError(err), `expected ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

before(async () => {
  fake = await EcsRpcFake.start();
});
after(() => fake.close());

test('ECS RPC API protocol fake: six copies from one region through one semaphore — the sixth reports Queued and starts only once a slot frees', async () => {
  const slots = ownSlots();
  const sources = Array.from({ length: 6 }, () => sourceImage());
  const events: string[] = [];
  const runs = sources.map((src, i) => runDistribute(params(src, { copies: [{ region: 'cn-shanghai' }] }, slots), { onStatus: (s) => events.push(`${i}:${s.state}`) }));
  const results = await Promise.all(runs);
  assert.deepEqual(events.filter((e) => e.endsWith(':Queued')), ['5:Queued'], 'only the sixth waited, and said so');
  const firstDone = events.findIndex((e) => e.endsWith(':Available'));
  const sixthStarts = events.findIndex((e) => e.startsWith('5:') && !e.endsWith(':Queued'));
  assert.ok(firstDone >= 0 && sixthStarts > firstDone, `the sixth started after a copy finished: ${events.join(' ')}`);
  assert.equal(fake.world.maxCopiesRunning.get(REGION), 5);
  assert.equal(new Set(results.map((r) => r.copies[0]!.imageId)).size, 6);
  assert.ok(fake.callsOf('CopyImage').some((c) => c.params.ImageId === sources[5] && c.params.DryRun === 'true'), 'a DryRun before the copy');
});

test('ECS RPC API protocol fake: aborting mid-copy cancels the copy (CancelCopyImage in the destination region) and the copy is deleted', async () => {
  const src = sourceImage();
  const saved = fake.world.scripts.copy;
  fake.world.scripts.copy = [{ status: 'Creating', progress: '10%' }];
  const controller = new AbortController();
  try {
    const states: CopyOutcome[] = [];
    const run = runDistribute(params(src, { copies: [{ region: 'cn-beijing', name: 'web01-copy' }] }), { onStatus: (s) => s.state === 'Creating' && controller.abort(new Error('job cancelled')), onCopyState: (c) => states.push(c) }, controller.signal);
    await assert.rejects(run);
    const cancel = fake.callsOf('CancelCopyImage').at(-1)!;
    assert.equal(cancel.params.RegionId, 'cn-beijing');
    assert.ok(fake.world.cancelledCopies.has(cancel.params.ImageId!));
    assert.equal(fake.world.images.has(cancel.params.ImageId!), false);
    assert.equal(fake.callsOf('CopyImage').filter((c) => c.params.ImageId === src && c.params.DryRun !== 'true').at(-1)!.params.DestinationImageName, 'web01-copy');
    const copy = cancel.params.ImageId!;
    assert.deepEqual(states, [{ region: 'cn-beijing', imageId: copy, state: 'copying' }, { region: 'cn-beijing', imageId: copy, state: 'cancelled', reason: 'job cancelled' }]);
  } finally {
    fake.world.scripts.copy = saved;
  }
});

test('ECS RPC API protocol fake: sharing with 12 accounts makes 2 ModifyImageSharePermission calls of at most 10, each preceded by its DryRun', async () => {
  const img = sourceImage();
  const list = accounts(12, 1_000_000_000_000_000);
  const before = fake.callsOf('ModifyImageSharePermission').length;
  const r = await runDistribute(params(img, { share: { accounts: list } }));
  const calls = fake.callsOf('ModifyImageSharePermission').slice(before);
  assert.deepEqual(calls.map((c) => [c.params.DryRun, Object.keys(c.params).filter((k) => k.startsWith('AddAccount.')).length]), [['true', 10], ['false', 10], ['true', 2], ['false', 2]]);
  assert.deepEqual(r.shares[0]!.accounts.map((o) => [o.account, o.shared]), list.map((a) => [a, true]));
  assert.deepEqual(fake.world.shares.get(img), list);
});

test('ECS RPC API protocol fake: 45 accounts already shared (DescribeImageSharePermission) + 6 new is refused before any ModifyImageSharePermission', async () => {
  const img = sourceImage();
  fake.world.shares.set(img, accounts(45, 4_000_000_000_000_000));
  const before = fake.callsOf('ModifyImageSharePermission').length;
  const err = await rejectsWith(runDistribute(params(img, { share: { accounts: accounts(6, 5_000_000_000_000_000) } })), 'CLOUD_SHARE_LIMIT');
  assert.match(err.message, /already shared with 45/);
  assert.equal(fake.callsOf('ModifyImageSharePermission').length, before);
  assert.equal(fake.callsOf('DescribeImageSharePermission').at(-1)!.params.ImageId, img);
  const ok = await runDistribute(params(img, { share: { accounts: [...accounts(2, 4_000_000_000_000_000), ...accounts(5, 5_000_000_000_000_000)] } }));
  assert.deepEqual(ok.shares[0]!.accounts.filter((o) => o.message === 'already shared').length, 2, 'accounts already there are reported, not shared again');
  assert.equal(fake.world.shares.get(img)!.length, 50);
});

test('ECS community publishing: an encrypted image is refused without an IsPublic call; encrypted copies with community are refused before any call', async () => {
  const enc = sourceImage(true);
  const before = fake.calls.length;
  const r = await runDistribute(params(enc, { share: { accounts: [], community: true } }));
  assert.deepEqual(r.shares[0]!.community && { published: r.shares[0]!.community.published, encrypted: /encrypted/.test(r.shares[0]!.community.message ?? '') }, { published: false, encrypted: true });
  assert.equal(fake.calls.slice(before).filter((c) => c.action === 'ModifyImageSharePermission').length, 0);
  assert.equal(fake.world.published.has(enc), false);

  const plain = sourceImage();
  const calls = fake.calls.length;
  const err = await rejectsWith(runDistribute(params(plain, { copies: [{ region: 'cn-beijing', encrypted: true }], share: { accounts: [], community: true } })), 'CLOUD_SHARE_REFUSED');
  assert.match(err.message, /share\.community: an encrypted copy cannot be published/);
  assert.equal(fake.calls.length, calls, 'no call at all');
  const pub = await runDistribute(params(plain, { share: { accounts: [], community: true } }));
  assert.equal(pub.shares[0]!.community?.published, true);
  assert.ok(fake.world.published.has(plain));
});

test('ECS copy EncryptAlgorithm: reaches CopyImage on the ECS RPC API protocol fake with Encrypted; without Encrypted it is refused before any call (InvalidEncrypted.NotMatchEncryptAlgorithm); the API refuses it for AWS', async () => {
  const src = sourceImage();
  const calls = fake.calls.length;
  const err = await rejectsWith(runDistribute(params(src, { copies: [{ region: 'cn-beijing', encryptAlgorithm: 'AES256' }] })), 'CLOUD_COPY_RULE');
  assert.match(err.message, /copy\[0\]\.encryptAlgorithm: .*InvalidEncrypted\.NotMatchEncryptAlgorithm/);
  assert.equal(fake.calls.length, calls, 'no call at all');
  const r = await runDistribute(params(src, { copies: [{ region: 'cn-beijing', encrypted: true, encryptAlgorithm: 'AES256' }] }));
  assert.equal(r.copies.length, 1);
  const real = fake.callsOf('CopyImage').filter((c) => c.params.DryRun !== 'true').at(-1)!;
  assert.deepEqual([real.params.Encrypted, real.params.EncryptAlgorithm, real.params.DestinationRegionId], ['true', 'AES256', 'cn-beijing']);
  const field = (() => {
    try {
      parseImportBody({ target: 'aws-image', copy: { regions: ['us-west-2'], encrypted: true, encryptAlgorithm: 'AES256' } }, 's3://b/k.vmdk');
    } catch (e) {
      return (e as { field?: string }).field;
    }
    return 'accepted';
  })();
  assert.equal(field, 'import.copy.encryptAlgorithm');
});

test('ECS RPC API protocol fake: each copy state reaches onCopyState (copying with its id, then available; a refused CopyImage failed with the cloud code and no id) and each image\'s shares reach onShared as answered', async () => {
  const src = sourceImage();
  const states: CopyOutcome[] = [];
  const shared: ImageShares[] = [];
  const callbacks = { onCopyState: (c: CopyOutcome) => states.push(c), onShared: (s: ImageShares) => shared.push(structuredClone(s)) };
  const result = await runDistribute(params(src, { copies: [{ region: 'cn-shanghai' }], share: { accounts: ['1234567890123456'] } }), callbacks);
  const copy = result.copies[0]!.imageId;
  assert.deepEqual(states, [{ region: 'cn-shanghai', imageId: copy, state: 'copying' }, { region: 'cn-shanghai', imageId: copy, state: 'available' }]);
  assert.deepEqual(shared, result.shares);
  assert.deepEqual(shared.map((s) => s.imageId), [src, copy]);

  states.length = 0;
  fake.failNext.set('CopyImage', new RpcError(403, 'Forbidden.RAM', 'User not authorized to operate on the specified resource, or this API doesn\'t support RAM.'));
  const err = await rejectsWith(runDistribute({ ...params(sourceImage(), { copies: [{ region: 'cn-beijing' }] }), dryRun: false }, callbacks), 'CLOUD_API_ERROR');
  assert.deepEqual(states, [{ region: 'cn-beijing', imageId: null, state: 'failed', code: 'CLOUD_API_ERROR', cloudCode: 'Forbidden.RAM', reason: err.message }]);
});
