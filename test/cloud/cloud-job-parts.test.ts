import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { planUploadImport } from '../../agent/cloud/upload-import/upload-preflight.js';
import { objectFormat } from '../../agent/cloud/upload-import/output-facts.js';
import { cancelStartedCloudTask } from '../../agent/jobs/cancel-cloud-task.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import type { JobRecord } from '../../agent/jobs/job-types.js';
import { emptyProgress } from '../../agent/jobs/job-types.js';

let fake: Ec2QueryFake;
before(async () => {
  fake = await Ec2QueryFake.start();
});
after(() => fake.close());

const GiB = 1024 ** 3;
const qcow2 = { disks: [{ path: 'web01.qcow2', format: 'qcow2', virtualSize: 10 * GiB }] };

test('upload import plan: without --as the repair picks the format; an explicit format is judged as written; an OVA is refused for snapshots', () => {
  const auto = planUploadImport({ target: 'aws-image' }, qcow2, undefined);
  assert.equal(auto.as, 'vmdk');
  assert.deepEqual(auto.facts.disks.map((d) => `${d.format}/${d.subformat}`), ['vmdk/streamOptimized']);
  assert.deepEqual(auto.findings.map((f) => `${f.severity}:${f.rule}`), ['repair:format']);
  assert.equal(objectFormat(auto.facts, 'aws'), 'VMDK');

  const original = planUploadImport({ target: 'aws-image' }, qcow2, 'original');
  assert.deepEqual(original.findings.map((f) => `${f.severity}:${f.cloudCode}`), ['error:InvalidParameterValue']);

  const ecs = planUploadImport({ target: 'ecs-image', imageName: 'web01' }, qcow2, undefined);
  assert.equal(ecs.as, 'original');
  assert.equal(objectFormat(ecs.facts, 'ecs'), 'qcow2');

  const ova = { container: 'ova' as const, disks: [{ path: 'a.ova#disk1', format: 'vmdk', subformat: 'streamOptimized', virtualSize: GiB }] };
  assert.equal(objectFormat(planUploadImport({ target: 'aws-image' }, ova, 'original').facts, 'aws'), 'OVA');
  assert.deepEqual(planUploadImport({ target: 'aws-snapshot' }, ova, 'original').findings.map((f) => f.rule), ['ova-container']);
  assert.deepEqual(planUploadImport({ target: 'aws-snapshot' }, ova, 'vmdk').findings, []);

  // A two-disk OVA converted on the way stores one disk: refused unless the other disk is named, or the OVA kept whole.
  const disk2 = { path: 'a.ova#disk2', format: 'vmdk', subformat: 'streamOptimized', virtualSize: GiB };
  const two = { ...ova, disks: [...ova.disks, disk2] };
  const dropped = planUploadImport({ target: 'ecs-image', imageName: 'web01' }, two, 'qcow2').findings.filter((f) => f.severity === 'error');
  assert.deepEqual(dropped.map((f) => f.rule), ['ova-disks']);
  assert.match(dropped[0]!.message, /holds 2 disks .* the other 1 would be missing from the ecs-image import/);
  const named = { target: 'ecs-image' as const, imageName: 'web01', extraDisks: [{ bucket: 'up', key: 'web01-disk2.qcow2', format: 'qcow2' }] };
  assert.deepEqual(planUploadImport(named, two, 'qcow2').findings.filter((f) => f.severity === 'error'), []);
  assert.deepEqual(planUploadImport({ target: 'aws-image' }, two, 'original').findings, []);
  const chunked = planUploadImport({ target: 'aws-image' }, { ...two, ovaChunked: true }, undefined);
  assert.deepEqual(chunked.findings.map((f) => `${f.severity}:${f.rule}`), ['repair:ova-chunked', 'error:ova-disks'], 'the chunked repair cannot keep the second disk');
});

test('cancelling a queued job whose import had started (a restart) calls CancelImportTask on the EC2 Query API protocol fake; a finished one calls nothing', async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKEQUEUED';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake';
  const ctx = { config: { ...DEFAULTS, cloud: { ...DEFAULTS.cloud, aws_region: 'eu-west-1', aws_endpoint: fake.url } } } as RunContext;
  const job: JobRecord = {
    id: 'j-1', schema: 2, version: 1, owner: null, destinationKey: 's3://up@eu-west-1', steps: {}, kind: 'upload', state: 'cancelling', phase: null, source: '/x', destination: 's3://up/x.vmdk', format: 'vmdk', options: {},
    createdAt: new Date().toISOString(), startedAt: null, finishedAt: null, progress: emptyProgress(), result: null, error: null, attempts: 1,
    import: { target: 'aws-image' }, importTask: { taskId: 'import-ami-0123456789abcdef0' },
  };
  // The task is unknown to the fake, which answers InvalidConversionTaskId: the call itself is what is checked.
  await assert.rejects(cancelStartedCloudTask(job, ctx), /CancelImportTask failed: InvalidConversionTaskId/);
  assert.equal(fake.callsOf('CancelImportTask').at(-1)?.params.ImportTaskId, 'import-ami-0123456789abcdef0');
  const before = fake.calls.length;
  await cancelStartedCloudTask({ ...job, result: { etag: '', objectSize: 0, sourceSha256: null, outputSha256: null, seconds: 0 } }, ctx);
  await cancelStartedCloudTask({ ...job, import: null, importTask: null }, ctx);
  assert.equal(fake.calls.length, before);
});

test('cancelling a queued ECS import job whose import.region differs from the configured region sends CancelTask to the import\'s region (ECS RPC API protocol fake)', async () => {
  const ecs = await EcsRpcFake.start();
  const saved = { id: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID, secret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET };
  process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = FAKE_ACCESS_KEY.id;
  process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = FAKE_ACCESS_KEY.secret;
  try {
    ecs.world.tasks.set('t-shanghai', { id: 't-shanghai', action: 'ImportImage', region: 'cn-shanghai', script: ecs.world.scripts.importTask, step: 0, cancelled: false, imageId: 'm-shanghai' });
    const ctx = { config: { ...DEFAULTS, cloud: { ...DEFAULTS.cloud, ecs_region: 'cn-hangzhou', ecs_endpoint: `http://${ecs.host}` } } } as RunContext;
    const job: JobRecord = {
      id: 'j-2', schema: 2, version: 1, owner: null, destinationKey: 'oss://up@cn-hangzhou', steps: {}, kind: 'upload', state: 'cancelling', phase: null, source: '/x', destination: 'oss://up/x.qcow2', format: 'qcow2', options: {},
      createdAt: new Date().toISOString(), startedAt: null, finishedAt: null, progress: emptyProgress(), result: null, error: null, attempts: 1,
      import: { target: 'ecs-image', imageName: 'web01', region: 'cn-shanghai' }, importTask: { taskId: 't-shanghai', imageId: 'm-shanghai' },
    };
    await cancelStartedCloudTask(job, ctx);
    assert.equal(ecs.world.tasks.get('t-shanghai')!.cancelled, true);
    assert.equal(ecs.calls.filter((c) => c.action === 'CancelTask').at(-1)?.params.RegionId, 'cn-shanghai');
  } finally {
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = saved.id;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = saved.secret;
    if (saved.id === undefined) delete process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    await ecs.close();
  }
});
