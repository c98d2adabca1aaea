import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId, RpcError } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { tempDir } from '../helpers/tmp.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import { runExport } from '../helpers/export-run.js';
import { runExportTask } from '../../agent/cloud/tasks/export-task.js';
import { dryRunEcsExport } from '../../agent/cloud/ecs/ecs-export.js';
import { copyEcsImage } from '../../agent/cloud/tasks/copy-step.js';
import { LocalFleetSemaphore } from '../../agent/fleet/fleet-semaphore-local.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import type { TaskSlots } from '../../agent/cloud/tasks/task-slots.js';
import { publishEcsImage, shareEcsImage } from '../../agent/cloud/tasks/share-step.js';
import { ecsClients, type EcsConnection } from '../../agent/cloud/ecs/ecs-clients.js';
import { ossClient } from '../../agent/cloud/ecs/ecs-checks.js';
import { OssSink } from '../../agent/sinks/oss/oss-sink.js';
import { retryingSink } from '../../agent/sinks/retrying-sink.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';
import { ecsExportPreflight, ecsImportRolePreflight } from '../../agent/cloud/preflight/ecs-remote-preflight.js';
import type { CloudTaskStatus } from '../../agent/cloud/task-events.js';
import { isVmxferError } from '../../agent/core/errors.js';

let fake: EcsRpcFake;
const REGION = 'cn-hangzhou';
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };
const RETRY = { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 };

function connection(secret = FAKE_ACCESS_KEY.secret): EcsConnection {
  return { region: REGION, endpoint: fake.host, protocol: 'http', accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: secret, retry: RETRY };
}

function oss(bucket?: string) {
  return ossClient({ region: REGION, endpoint: `http://localhost:${fake.host.split(':')[1]}`, accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret }, bucket);
}

/** An image that exists in the fake (the source of copies, shares and exports). */
function sourceImage(opts: { dataDisks?: number[]; encrypted?: boolean } = {}): string {
  const id = ecsId('m');
  const disks = [{ type: 'system', size: 40, encrypted: opts.encrypted ?? false }, ...(opts.dataDisks ?? []).map((size) => ({ type: 'data', size, encrypted: false }))];
  fake.world.images.set(id, { id, region: REGION, name: 'src', script: [{ status: 'Available', progress: '100%' }], step: 0, disks });
  return id;
}

async function rejectsWith(p: Promise<unknown>, code: string, cloudCode?: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(isVmxferError(err), `expected a VmxferError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (cloudCode) assert.ok(err.message.includes(cloudCode), err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const importParams = (name = 'web01') => ({ target: 'ecs-image' as const, imageName: name, disks: [{ ossBucket: 'up', ossObject: 'web01/system.qcow2', format: 'qcow2', sizeGiB: 40 }, { ossBucket: 'up', ossObject: 'web01/data.qcow2', format: 'qcow2', sizeGiB: 100 }], osType: 'linux', platform: 'Ubuntu', architecture: 'x86_64', bootMode: 'UEFI', licenseType: 'BYOL' });

before(async () => {
  fake = await EcsRpcFake.start();
});
after(() => fake.close());

test('ECS ImportImage against an ECS RPC API protocol fake: DiskDeviceMapping per disk, DryRun, task then image states in order', async () => {
  const seen: CloudTaskStatus[] = [];
  const r = await runImportStep({ cloud: 'ecs', connection: connection(), import: { ...importParams(), tags: { team: 'ops' } }, poll: POLL, dryRunFirst: true }, { onStatus: (s) => seen.push(s) });
  assert.deepEqual(seen.map((s) => s.state), ['Waiting', 'Processing', 'Finished', 'Creating', 'Available']);
  assert.deepEqual(seen.slice(3).map((s) => s.progress), [50, 100]);
  const [dry, real] = fake.callsOf('ImportImage').slice(-2);
  assert.equal(dry!.params.DryRun, 'true');
  assert.equal(real!.params['DiskDeviceMapping.1.OSSObject'], 'web01/system.qcow2');
  assert.equal(real!.params['DiskDeviceMapping.2.DiskImageSize'], '100');
  assert.equal(real!.params.BootMode, 'UEFI');
  assert.equal(real!.params['Tag.1.Key'], 'team');
  assert.equal(real!.version, '2014-05-26');
  assert.ok(real!.params.Signature && real!.params.SignatureNonce !== dry!.params.SignatureNonce);
  assert.match(r.resourceIds[0]!, /^m-/);
});

test('Throttling.User from the ECS RPC API protocol fake is retried with backoff and the ClientToken is kept', async () => {
  fake.throttle.set('ImportImage', 2);
  fake.throttle.set('DescribeTasks', 1);
  const retries: string[] = [];
  await runImportStep({ cloud: 'ecs', connection: connection(), import: importParams(), poll: POLL }, { onRetry: (c) => retries.push(c) });
  assert.deepEqual(retries, ['Throttling.User', 'Throttling.User', 'Throttling.User']);
  assert.equal(new Set(fake.callsOf('ImportImage').slice(-3).map((c) => c.params.ClientToken)).size, 1);
});

test('documented ECS error codes surface typed: a missing import role is NoSetRoletoECSServiceAcount, a bad signature IncompleteSignature', async () => {
  fake.world.roles.delete('AliyunECSImageImportDefaultRole');
  try {
    const err = await rejectsWith(runImportStep({ cloud: 'ecs', connection: connection(), import: importParams(), poll: POLL }), 'CLOUD_API_ERROR', 'NoSetRoletoECSServiceAcount');
    assert.match(err.message, /alibaba ImportImage failed/);
    assert.match(err.message, /request id [0-9a-f-]{36}/);
  } finally {
    fake.world.roles.set('AliyunECSImageImportDefaultRole', fake.world.roles.get('AliyunECSImageExportDefaultRole')!);
  }
  await rejectsWith(runImportStep({ cloud: 'ecs', connection: connection('wrong-secret'), import: importParams(), poll: POLL }), 'CLOUD_API_ERROR', 'IncompleteSignature');
});

test('an invalid image name is refused by the parameter rules before the ECS RPC API protocol fake sees ImportImage', async () => {
  const before = fake.callsOf('ImportImage').length;
  await rejectsWith(runImportStep({ cloud: 'ecs', connection: connection(), import: importParams('aliyun-web'), poll: POLL }), 'CLOUD_PREFLIGHT_FAILED', 'InvalidImageName.Malformed');
  assert.equal(fake.callsOf('ImportImage').length, before);
});

test('a Failed ECS import task ends with CLOUD_TASK_FAILED', async () => {
  const saved = fake.world.scripts.importTask;
  fake.world.scripts.importTask = ['Waiting', 'Failed'];
  try {
    await rejectsWith(runImportStep({ cloud: 'ecs', connection: connection(), import: importParams(), poll: POLL }), 'CLOUD_TASK_FAILED', 'Failed');
  } finally {
    fake.world.scripts.importTask = saved;
  }
});

test('cancelling the job mid-import calls CancelTask on the ECS RPC API protocol fake', async () => {
  const saved = fake.world.scripts.importTask;
  fake.world.scripts.importTask = ['Waiting', 'Processing'];
  const ac = new AbortController();
  const seen: string[] = [];
  try {
    const run = runImportStep({ cloud: 'ecs', connection: connection(), import: importParams(), poll: POLL }, { onStatus: (s) => (seen.push(s.state), s.state === 'Processing' && ac.abort()) }, ac.signal);
    await rejectsWith(run, 'VMX_ABORTED');
  } finally {
    fake.world.scripts.importTask = saved;
  }
  const taskId = fake.callsOf('CancelTask').at(-1)!.params.TaskId!;
  assert.equal(fake.world.tasks.get(taskId)!.cancelled, true);
  assert.deepEqual(seen, ['Waiting', 'Processing', 'cancelling']);
});

test('ECS ExportImage against an ECS RPC API protocol fake, then the object is downloaded over OSS in ranged parts', async () => {
  fake.world.exportBytes = randomBytes(200_000);
  const imageId = sourceImage();
  const { dir, cleanup } = await tempDir();
  try {
    const seen: string[] = [];
    const sink = retryingSink(new OssSink({ bucket: 'exports', endpoint: `http://localhost:${fake.host.split(':')[1]}`, sldEnable: true, accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret, env: {} }));
    const checkpoints = new FileCheckpointStore<DownloadCheckpoint>(join(dir, '.checkpoints'), isDownloadCheckpoint);
    const r = await runExport({ ecs: connection() }, { cloud: 'ecs', imageId, format: 'qcow2', bucket: 'exports', prefix: 'web01' }, { destination: join(dir, 'web01.qcow2'), poll: POLL, partSize: 64 * 1024, sink, checkpoints }, { onStatus: (s) => seen.push(s.state) });
    assert.equal(r.key, `web01_${imageId}_system.qcow2`);
    assert.ok((await readFile(join(dir, 'web01.qcow2'))).equals(fake.world.exportBytes));
    assert.deepEqual(seen, ['Waiting', 'Processing', 'Finished']);
    assert.equal(r.rangesFetched, 4, '200 000 bytes in 64 KiB ranges');
    const call = fake.callsOf('ExportImage').at(-1)!;
    assert.equal(call.params.ImageFormat, 'qcow2');
    assert.equal(call.params.OSSPrefix, 'web01');
  } finally {
    await cleanup();
  }
});

test('export preflight against the fake: OSS prefix, export role, data-disk limits, the OSS bucket class and its region', async () => {
  const clients = ecsClients(connection());
  fake.world.buckets.set('exports', { storageClass: 'Standard' });
  fake.world.buckets.set('cold-bucket', { storageClass: 'ColdArchive', sse: 'KMS' });
  fake.world.buckets.set('far-bucket', { storageClass: 'Standard', location: 'oss-eu-central-1' });
  const ok = sourceImage({ dataDisks: [100, 500] });
  assert.deepEqual(await ecsExportPreflight(clients, oss(), { imageId: ok, ossBucket: 'exports', ossPrefix: 'web01' }), []);
  const big = sourceImage({ dataDisks: [10, 10, 10, 10, 600] });
  const found = await ecsExportPreflight(clients, oss(), { imageId: big, ossBucket: 'cold-bucket', ossPrefix: 'web/01' });
  assert.deepEqual(found.map((f) => f.rule), ['oss-prefix', 'ecs-export-disks', 'ecs-export-disk-size', 'oss-storage-class', 'oss-encrypted']);
  const far = await ecsExportPreflight(clients, oss(), { imageId: ok, ossBucket: 'far-bucket', ossPrefix: 'web01' });
  assert.deepEqual(far.map((f) => `${f.rule} ${f.message}`), ['oss-region OSS bucket far-bucket is in oss-eu-central-1, the image in cn-hangzhou']);
  fake.world.roles.delete('AliyunECSImageExportDefaultRole');
  try {
    const noRole = await ecsExportPreflight(clients, undefined, { imageId: ok, ossBucket: 'exports', ossPrefix: 'web01' });
    assert.deepEqual(noRole.map((f) => f.cloudCode), ['EntityNotExist.Role']);
  } finally {
    fake.world.roles.set('AliyunECSImageExportDefaultRole', fake.world.roles.get('AliyunECSImageImportDefaultRole')!);
  }
  assert.deepEqual(await ecsImportRolePreflight({ target: 'ecs-image', image: { disks: [] }, convertAllowed: true }, clients), []);
});

/** A semaphore of its own, as another agent without a shared store would have. */
function ownSlots(): TaskSlots {
  return { semaphore: new LocalFleetSemaphore(), caps: DEFAULTS.fleet.cloud_tasks, holder: 'test' };
}

test('ECS copy queue against an ECS RPC API protocol fake: 6 copies → 5 running and 1 queued per region', async () => {
  const slots = ownSlots();
  const queued: string[] = [];
  const sources = Array.from({ length: 6 }, () => sourceImage());
  const results = await Promise.all(sources.map((id) => copyEcsImage(connection(), { sourceImageId: id, sourceRegion: REGION, destinationRegion: 'cn-shanghai', poll: POLL, slots }, { onStatus: (s) => s.state === 'Queued' && queued.push(s.id) })));
  assert.equal(queued.length, 1, 'exactly one copy waited');
  assert.equal(queued[0], sources[5], 'the sixth in arrival order');
  assert.equal(fake.world.maxCopiesRunning.get(REGION), 5, 'the fake never saw more than 5 copies running');
  assert.equal(new Set(results.map((r) => r.imageId)).size, 6);
  assert.deepEqual(await slots.semaphore.holders(`cloud:ecs:${REGION}:copy-image`), []);
});

test('two copies of the same image are serialized; without the shared semaphore the fake answers OperationDenied.ImageCopyConflict', async () => {
  const slots = ownSlots();
  const src = sourceImage();
  const order: string[] = [];
  const copy = (to: string, l: TaskSlots) => copyEcsImage(connection(), { sourceImageId: src, sourceRegion: REGION, destinationRegion: to, poll: POLL, slots: l }, { onStatus: (s) => order.push(`${to}:${s.state}`) });
  await Promise.all([copy('cn-beijing', slots), copy('cn-shenzhen', slots)]);
  const changes = order.filter((x, i) => x !== order[i - 1]);
  assert.deepEqual(changes, ['cn-shenzhen:Queued', 'cn-beijing:Creating', 'cn-beijing:Available', 'cn-shenzhen:Creating', 'cn-shenzhen:Available']);
  const first = copy('cn-qingdao', ownSlots());
  await new Promise((r) => setTimeout(r, 1));
  const err = await rejectsWith(copy('cn-zhangjiakou', ownSlots()), 'CLOUD_API_ERROR', 'OperationDenied.ImageCopyConflict');
  assert.match(err.message, /cannot be copied concurrently/);
  await first;
});

test('a throttled CopyImage retried with the same ClientToken creates one copy; KMSKeyId without Encrypted is refused first', async () => {
  const src = sourceImage();
  fake.throttle.set('CopyImage', 2);
  const r = await copyEcsImage(connection(), { sourceImageId: src, sourceRegion: REGION, destinationRegion: 'cn-beijing', poll: POLL });
  const calls = fake.callsOf('CopyImage').filter((c) => c.params.ImageId === src);
  assert.equal(calls.length, 3, 'two throttled attempts and the accepted one');
  assert.ok(calls.every((c) => c.params.ClientToken === r.clientToken), 'every attempt carries the same ClientToken');
  assert.equal([...fake.world.images.values()].filter((i) => i.copyOf?.image === src).length, 1);
  const again = await copyEcsImage(connection(), { sourceImageId: src, sourceRegion: REGION, destinationRegion: 'cn-beijing', clientToken: r.clientToken, poll: POLL });
  assert.equal(again.imageId, r.imageId, 'the same token returns the same copy');
  await rejectsWith(copyEcsImage(connection(), { sourceImageId: src, sourceRegion: REGION, destinationRegion: 'cn-beijing', kmsKeyId: 'key-1', poll: POLL }), 'CLOUD_COPY_RULE', 'InvalidParameter.EncryptedIllegal');
});

test('ModifyImageSharePermission batching against an ECS RPC API protocol fake: 23 accounts → 3 calls, per-account outcome', async () => {
  const img = sourceImage();
  const accounts = Array.from({ length: 23 }, (_, i) => String(1_000_000_000_000_000 + i));
  fake.world.unknownAccounts.add(accounts[12]!);
  const before = fake.callsOf('ModifyImageSharePermission').length;
  const out = await shareEcsImage(connection(), REGION, img, accounts);
  const calls = fake.callsOf('ModifyImageSharePermission').slice(before);
  assert.equal(calls.length, 3);
  assert.deepEqual(calls.map((c) => Object.keys(c.params).filter((k) => k.startsWith('AddAccount.')).length), [10, 10, 3]);
  assert.deepEqual(out.map((o) => o.account), accounts);
  assert.deepEqual(out.filter((o) => !o.shared).map((o) => o.account), accounts.slice(10, 20), 'the batch holding the unknown account failed as a whole');
  assert.ok(out.slice(10, 20).every((o) => o.cloudCode === 'InvalidAccount.NotFound'));
  assert.deepEqual(fake.world.shares.get(img), [...accounts.slice(0, 10), ...accounts.slice(20)]);
});

test('sharing with 51 accounts is refused before any call; publishing an encrypted image as community is refused', async () => {
  const img = sourceImage();
  const before = fake.callsOf('ModifyImageSharePermission').length;
  const accounts = Array.from({ length: 51 }, (_, i) => String(2_000_000_000_000_000 + i));
  await rejectsWith(shareEcsImage(connection(), REGION, img, accounts), 'CLOUD_SHARE_LIMIT', '51 accounts');
  const enc = sourceImage({ encrypted: true });
  await rejectsWith(publishEcsImage(connection(), REGION, enc), 'CLOUD_SHARE_REFUSED', 'encrypted');
  assert.equal(fake.callsOf('ModifyImageSharePermission').length, before);
  await publishEcsImage(connection(), REGION, img);
  assert.equal(fake.callsOf('ModifyImageSharePermission').at(-1)!.params.IsPublic, 'true');
  fake.failNext.set('ModifyImageSharePermission', new RpcError(403, 'QuotaExceed.ShareImageUser', 'The number of shared users exceeds the limit.'));
  const out = await shareEcsImage(connection(), REGION, img, ['3000000000000001']);
  assert.deepEqual(out.map((o) => o.cloudCode), ['QuotaExceed.ShareImageUser']);
});

test('ECS ExportImage DryRun against the ECS RPC API protocol fake: a passing DryRun creates no task; one refused (export role missing) stops before the real call with the cloud code', async () => {
  const imageId = sourceImage({ dataDisks: [] });
  const p = { imageId, format: 'qcow2' as const, ossBucket: 'exports', ossPrefix: 'web01' };
  const tasks = () => [...fake.world.tasks.values()].filter((t) => t.action === 'ExportImage').length;
  const before = tasks();
  await dryRunEcsExport(ecsClients(connection()), p);
  assert.equal(tasks(), before, 'a DryRun creates no task');
  const role = fake.world.roles.get('AliyunECSImageExportDefaultRole')!;
  fake.world.roles.delete('AliyunECSImageExportDefaultRole');
  const from = fake.calls.length;
  try {
    await assert.rejects(runExportTask({ cloud: 'ecs', connection: connection(), export: p, poll: POLL, dryRunFirst: true }), (err) => isVmxferError(err) && err.message.includes('NoSetRoletoECSServiceAcount'));
    assert.deepEqual(fake.calls.slice(from).filter((c) => c.action === 'ExportImage').map((c) => c.params.DryRun), ['true'], 'only the DryRun was sent');
    assert.equal(tasks(), before);
  } finally {
    fake.world.roles.set('AliyunECSImageExportDefaultRole', role);
  }
});
