import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, waitForJob } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { parseImportBody } from '../../agent/api/import-body.js';
import { importStepParams } from '../../agent/cloud/upload-import/import-step-params.js';
import { runImportStep } from '../../agent/cloud/tasks/import-step.js';

let ecs: EcsRpcFake;
let dir: string;
let cleanup: () => Promise<void>;
const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };

before(async () => {
  ({ dir, cleanup } = await tempDir());
  ecs = await EcsRpcFake.start();
});
after(async () => {
  await ecs.close();
  await cleanup();
});

test('API import.region (ECS only): ImportImage reaches the ECS RPC API protocol fake with that RegionId; absent, the configured region; bad values are 400s naming the field', async () => {
  const conn = { ecs: { region: 'cn-hangzhou', endpoint: ecs.host, protocol: 'http' as const, accessKeyId: FAKE_ACCESS_KEY.id, accessKeySecret: FAKE_ACCESS_KEY.secret } };
  const object = { bucket: 'up-sh', key: 'web01.qcow2', format: 'qcow2', virtualSize: 3 << 30 };
  for (const [region, expected] of [['cn-shanghai', 'cn-shanghai'], [undefined, 'cn-hangzhou']] as const) {
    const options = parseImportBody({ target: 'ecs-image', imageName: 'web01', ...(region ? { region } : {}) }, 'oss://up-sh/web01.qcow2');
    await runImportStep(importStepParams(options, object, conn, POLL));
    const call = ecs.callsOf('ImportImage').at(-1)!;
    assert.equal(call.params.RegionId, expected);
    assert.ok(ecs.callsOf('DescribeTasks').at(-1)!.params.RegionId === expected, 'the task is followed in the same region');
  }
  const refused = (body: Record<string, unknown>, dest: string) => {
    try {
      parseImportBody(body, dest);
    } catch (err) {
      return (err as { field?: string; message: string });
    }
    assert.fail('expected a 400');
  };
  assert.equal(refused({ target: 'ecs-image', imageName: 'web01', region: 'oss-cn-shanghai' }, 'oss://b/k').field, 'import.region');
  assert.equal(refused({ target: 'ecs-image', imageName: 'web01', region: 'Shanghai' }, 'oss://b/k').field, 'import.region');
  assert.equal(refused({ target: 'aws-image', region: 'eu-west-1' }, 's3://b/k').field, 'import.region');
});

test('an API export job of an ECS image with a data disk (daemon, ECS RPC API protocol fake and its OSS routes): both disk objects downloaded, result.dataDisks names the second file', async () => {
  const imageId = ecsId('m');
  ecs.world.images.set(imageId, { id: imageId, region: 'cn-hangzhou', name: 'web01', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }, { type: 'data', size: 100, encrypted: false }] });
  ecs.world.exportDiskBytes = [randomBytes(300_000), randomBytes(200_000)];
  ecs.world.buckets.set('exports', { storageClass: 'Standard' });
  const d = await startDaemon({
    sourceRoots: [dir],
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret },
    config: {
      stores: { oss_endpoint: `http://localhost:${ecs.host.split(':')[1]}`, oss_region: 'oss-cn-hangzhou', s3_path_style: true },
      cloud: { ecs_endpoint: `http://${ecs.host}`, poll_seconds: 0.01 },
      transfer: { part_size: '128KiB' },
    },
  });
  try {
    const destination = join(dir, 'web01.qcow2');
    const r = await d.api('POST', '/v1/jobs', { kind: 'export', destination, export: { cloud: 'ecs', imageId, format: 'qcow2', bucket: 'exports', prefix: 'web01' } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.equal(job.result.export.key, `web01_${imageId}_system.qcow2`);
    assert.deepEqual(job.result.export.dataKeys, [`web01_${imageId}_data_xvdb.qcow2`]);
    assert.deepEqual(job.result.dataDisks.map((x: { destination: string; objectSize: number }) => [x.destination, x.objectSize]), [[join(dir, 'web01.data1.qcow2'), 200_000]]);
    assert.ok((await readFile(destination)).equals(ecs.world.exportDiskBytes[0]!));
    assert.ok((await readFile(join(dir, 'web01.data1.qcow2'))).equals(ecs.world.exportDiskBytes[1]!));
  } finally {
    ecs.world.exportDiskBytes = [];
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});
