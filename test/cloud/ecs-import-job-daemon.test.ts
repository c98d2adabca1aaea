import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, waitForJob } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { FAKE_ACCESS_KEY_ID, FAKE_ACCESS_KEY_SECRET, startOssProtocolFake, type OssProtocolFake } from '../helpers/oss-protocol-server/oss-protocol-fake.js';

const MiB = 1024 * 1024;
let ecs: EcsRpcFake;
let oss: OssProtocolFake;
let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  ecs = await EcsRpcFake.start();
  oss = await startOssProtocolFake({ buckets: ['ecs-jobs'], capacityBytes: 64 * MiB });
});
after(async () => {
  await oss.close();
  await ecs.close();
  await cleanup();
});

test('an API upload job with an ecs-image import: the object on the OSS protocol fake, ImportImage on the ECS RPC API protocol fake, task then image states in cloudTask', async () => {
  const raw = join(dir, 'system.raw');
  await writeFile(raw, randomBytes(MiB));
  await truncate(raw, 3 * MiB);
  const d = await startDaemon({
    sourceRoots: [dir],
    env: { OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY_SECRET, ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret },
    config: {
      stores: { oss_endpoint: oss.endpoint, oss_region: 'oss-cn-hangzhou', s3_path_style: true },
      cloud: { ecs_endpoint: `http://${ecs.host}`, poll_seconds: 0.01 },
    },
  });
  try {
    const r = await d.api('POST', '/v1/jobs', { source: raw, destination: 'oss://ecs-jobs/web01/system.qcow2', format: 'qcow2', import: { target: 'ecs-image', imageName: 'web01', osType: 'linux', bootMode: 'UEFI' } });
    assert.equal(r.status, 201, r.text);
    const seen: string[] = [];
    const job = await waitForJob(d, r.json.job.id, (j) => {
      if (j.cloudTask && seen.at(-1) !== j.cloudTask.state) seen.push(j.cloudTask.state);
      return ['completed', 'failed'].includes(j.state);
    });
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.equal(seen.at(-1), 'Available');
    assert.equal(job.cloudTask.kind, 'ecs-image');
    assert.match(job.result.import.resourceIds[0], /^m-/);
    assert.equal(job.cloudTask.id, job.result.import.resourceIds[0], 'the image is followed once the task finished');
    assert.ok(oss.store.bucket('ecs-jobs').objects.get('web01/system.qcow2'));
    const call = ecs.callsOf('ImportImage').at(-1)!;
    assert.equal(call.params.RegionId, 'cn-hangzhou');
    assert.equal(call.params['DiskDeviceMapping.1.OSSBucket'], 'ecs-jobs');
    assert.equal(call.params['DiskDeviceMapping.1.Format'], 'qcow2');
    assert.equal(call.params.BootMode, 'UEFI');
    assert.equal(call.params.ClientToken, job.import.clientToken);
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});
