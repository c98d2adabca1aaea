import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { tempDir } from '../helpers/tmp.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';
import { runExport } from '../helpers/export-run.js';
import { dataDiskPath } from '../../agent/cloud/tasks/data-disk-path.js';
import type { EcsConnection } from '../../agent/cloud/ecs/ecs-clients.js';
import { OssSink } from '../../agent/sinks/oss/oss-sink.js';
import { retryingSink } from '../../agent/sinks/retrying-sink.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';
import type { CloudTaskStatus } from '../../agent/cloud/task-events.js';
import { isVmxferError } from '../../agent/core/errors.js';

let fake: EcsRpcFake;
const REGION = 'cn-hangzhou';
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };
const connection = (): EcsConnection => ({ region: REGION, endpoint: fake.host, protocol: 'http', accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
const FAILURE = { code: 'ParameterInvalid', message: 'The specified DiskDeviceMapping.1.OSSObject parameter is invalid.' };

function image(dataDisks: number[]): string {
  const id = ecsId('m');
  fake.world.images.set(id, { id, region: REGION, name: 'src', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }, ...dataDisks.map((size) => ({ type: 'data', size, encrypted: false }))] });
  return id;
}

async function exportTo(dir: string, imageId: string, seen: CloudTaskStatus[] = []) {
  const sink = retryingSink(new OssSink({ bucket: 'exports', endpoint: `http://localhost:${fake.host.split(':')[1]}`, sldEnable: true, accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret, env: {} }));
  const checkpoints = new FileCheckpointStore<DownloadCheckpoint>(join(dir, '.checkpoints'), isDownloadCheckpoint);
  return runExport({ ecs: connection() }, { cloud: 'ecs', imageId, format: 'qcow2', bucket: 'exports', prefix: 'web01' }, { destination: join(dir, 'web01.qcow2'), poll: POLL, partSize: 64 * 1024, sink, checkpoints }, { onStatus: (s) => seen.push(s) });
}

async function failsWith(p: Promise<unknown>, text: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(isVmxferError(err), String(err));
    assert.equal(err.code, 'CLOUD_TASK_FAILED', err.message);
    assert.ok(err.message.includes(text), err.message);
    return;
  }
  assert.fail('expected CLOUD_TASK_FAILED');
}

before(async () => {
  fake = await EcsRpcFake.start();
  fake.world.taskFailure = FAILURE;
});
after(() => fake.close());

test('a Failed ECS ImportImage task reports the ErrorCode and ErrorMsg DescribeTaskAttribute gives (ECS RPC API protocol fake), in the error and the last status', async () => {
  fake.world.scripts.importTask = ['Waiting', 'Failed'];
  const seen: CloudTaskStatus[] = [];
  try {
    const run = runImportStep({ cloud: 'ecs', connection: connection(), poll: POLL, import: { target: 'ecs-image', imageName: 'web01', disks: [{ ossBucket: 'up', ossObject: 'web01.qcow2', format: 'qcow2' }] } }, { onStatus: (s) => seen.push(s) });
    await failsWith(run, `ended in state "Failed": ${FAILURE.code}: ${FAILURE.message}`);
  } finally {
    fake.world.scripts.importTask = ['Waiting', 'Processing', 'Processing', 'Finished'];
  }
  assert.equal(seen.at(-1)?.message, `${FAILURE.code}: ${FAILURE.message}`);
  const attr = fake.callsOf('DescribeTaskAttribute').at(-1)!;
  assert.equal(attr.params.TaskId, seen.at(-1)!.id);
  assert.equal(seen[0]!.message, 'ImportImage', 'a running task is still named by its action');
});

test('a Failed ECS ExportImage task reports the cloud reason too, and nothing is downloaded', async () => {
  const { dir, cleanup } = await tempDir();
  fake.world.scripts.exportTask = ['Waiting', 'Failed'];
  try {
    await failsWith(exportTo(dir, image([])), `${FAILURE.code}: ${FAILURE.message}`);
  } finally {
    fake.world.scripts.exportTask = ['Waiting', 'Processing', 'Finished'];
    await cleanup();
  }
});

test('ECS ExportImage of an image with two data disks: every disk object the task names is downloaded (system to DST, data disks beside it)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    fake.world.exportDiskBytes = [randomBytes(150_000), randomBytes(70_000), randomBytes(90_000)];
    const imageId = image([100, 200]);
    const r = await exportTo(dir, imageId);
    assert.equal(r.key, `web01_${imageId}_system.qcow2`);
    assert.deepEqual(r.dataDisks?.map((d) => d.key), [`web01_${imageId}_data_xvdb.qcow2`, `web01_${imageId}_data_xvdc.qcow2`]);
    assert.deepEqual(r.dataDisks?.map((d) => d.destination), [join(dir, 'web01.data1.qcow2'), join(dir, 'web01.data2.qcow2')]);
    const files = await Promise.all(['web01.qcow2', 'web01.data1.qcow2', 'web01.data2.qcow2'].map((f) => readFile(join(dir, f))));
    files.forEach((bytes, i) => assert.ok(bytes.equals(fake.world.exportDiskBytes[i]!), `disk ${i} matches its object`));
  } finally {
    fake.world.exportDiskBytes = [];
    await cleanup();
  }
});

test('data disk paths: .dataN before the extension', () => {
  assert.equal(dataDiskPath('/x/web01.qcow2', 1), '/x/web01.data1.qcow2');
  assert.equal(dataDiskPath('/x/web01.raw.tar.gz', 2), '/x/web01.data2.raw.tar.gz');
  assert.equal(dataDiskPath('/x.d/web01', 3), '/x.d/web01.data3');
  assert.equal(dataDiskPath('/x/.hidden', 1), '/x/.hidden.data1');
});
