import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { EcsRpcFake, FAKE_ACCESS_KEY } from '../helpers/ecs-rpc-fake/server.js';
import { ecsId, EXPORT_TASK_SCRIPT } from '../helpers/ecs-rpc-fake/ecs-world.js';
import { QEMU_MISSING, qemuCompare, qemuFromRaw } from '../helpers/qemu.js';
import { smallRaw } from '../helpers/export-images.js';
import { distinct, openFeed } from '../helpers/job-feed.js';
import { tempDir } from '../helpers/tmp.js';
import { interruptWhen } from '../helpers/killable-cli.js';

/**
 * ECS ExportImage as API jobs and through `vmxfer export ecs`, against the ECS RPC API protocol fake. No
 * OSS server runs here (docs/field-notes: none can be installed), so the exported object is read from the
 * fake's own OSS routes, where ExportImage writes it when the task finishes.
 */
const REGION = 'cn-hangzhou';
const BUCKET = 'ecs-exports';
const ALI_ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret, OSS_ACCESS_KEY_ID: FAKE_ACCESS_KEY.id, OSS_ACCESS_KEY_SECRET: FAKE_ACCESS_KEY.secret };
const STUCK = ['Waiting', 'Processing'];

let ecs: EcsRpcFake;
let d: TestDaemon;
let dir: string;
let cleanup: () => Promise<void>;
let raw: string;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  raw = await smallRaw(dir, 'system.raw', 8);
  ecs = await EcsRpcFake.start();
  ecs.world.buckets.set(BUCKET, { storageClass: 'Standard' });
  d = await startDaemon({
    env: ALI_ENV,
    config: {
      stores: { oss_endpoint: ossEndpoint(), oss_region: `oss-${REGION}`, s3_path_style: true },
      cloud: { ecs_endpoint: `http://${ecs.host}`, poll_seconds: 0.01 },
      transfer: { part_size: '128KiB' },
    },
  });
});
after(async () => {
  await d?.stop();
  if (d) await rm(d.stateDir, { recursive: true, force: true });
  await ecs?.close();
  await cleanup?.();
});

/** Path-style OSS on the fake's port (ali-oss with a localhost endpoint, field notes). */
function ossEndpoint(): string {
  return `http://localhost:${ecs.host.split(':')[1]}`;
}

/** A custom image the fake knows, ready to export. */
function image(): string {
  const id = ecsId('m');
  ecs.world.images.set(id, { id, region: REGION, name: 'web01', script: [{ status: 'Available', progress: '100%' }], step: 0, disks: [{ type: 'system', size: 40, encrypted: false }] });
  return id;
}

function exportBody(imageId: string, destination: string, extra: Record<string, unknown> = {}) {
  return { kind: 'export', destination, export: { cloud: 'ecs', imageId, format: 'qcow2', bucket: BUCKET, prefix: 'web01' }, ...extra };
}

async function submitted(body: unknown): Promise<string> {
  const r = await d.api('POST', '/v1/jobs', body);
  assert.equal(r.status, 201, r.text);
  return r.json.job.id;
}

/** Runs `fn` while the fake's ExportImage tasks follow `script`. */
async function withExportScript(script: string[], fn: () => Promise<void>): Promise<void> {
  ecs.world.scripts.exportTask = script;
  try {
    await fn();
  } finally {
    ecs.world.scripts.exportTask = EXPORT_TASK_SCRIPT;
  }
}

const finished = (id: string) => waitForJob(d, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
const processing = (id: string) => waitForJob(d, id, (j) => j.cloudTask?.state === 'Processing' || ['completed', 'failed', 'cancelled'].includes(j.state));

test('an ECS export API job end to end (OSS routes of the ECS RPC API protocol fake): ExportImage, Waiting/Processing/Finished in the job and the feed, the qcow2 downloaded and converted to raw, equal to the source per qemu-img', { skip: QEMU_MISSING }, async () => {
  ecs.world.exportBytes = await readFile(await qemuFromRaw(raw, join(dir, 'exported.qcow2'), 'qcow2'));
  const imageId = image();
  const feed = await openFeed(d);
  try {
    const dst = join(d.stateDir, 'web01.raw');
    const id = await submitted(exportBody(imageId, dst, { format: 'raw' }));
    const job = await finished(id);
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.equal(job.source, `ecs:${imageId}`);
    assert.equal(job.cloudTask.kind, 'ecs-export-image');
    assert.match(job.cloudTask.id, /^t-/);
    assert.deepEqual(job.result.export, { taskId: job.cloudTask.id, bucket: BUCKET, key: `web01_${imageId}_system.qcow2` });
    assert.deepEqual([job.result.conversion.from, job.result.conversion.to], ['qcow2', 'raw']);
    await qemuCompare(raw, dst);

    const [dry, call] = ecs.callsOf('ExportImage').slice(-2);
    assert.deepEqual([dry!.params.DryRun, call!.params.DryRun], ['true', 'false'], 'ExportImage DryRun first, then the real call');
    assert.deepEqual([call!.params.RegionId, call.params.ImageId, call.params.ImageFormat, call.params.OSSBucket, call.params.OSSPrefix], [REGION, imageId, 'qcow2', BUCKET, 'web01']);
    await new Promise((r) => setTimeout(r, 200));
    const mine = feed.jobs(id);
    assert.deepEqual(distinct(mine.filter((j) => j.cloudTask).map((j) => j.cloudTask.state)), EXPORT_TASK_SCRIPT);
    assert.deepEqual(distinct(mine.map((j) => `${j.state}${j.phase ? `/${j.phase}` : ''}`)).filter((s) => ['active/exporting', 'active/downloading', 'completed'].includes(s)), ['active/exporting', 'active/downloading', 'completed']);
    assert.match((await d.api('GET', '/metrics')).text, /^vmxfer_cloud_task_updates_total\{kind="ecs-export-image",state="Finished",agent="[^"]+"\} 1$/m);
  } finally {
    await feed.close();
  }
});

test('a daemon restarted mid-ECS-export follows the same task on the ECS RPC API protocol fake: no second ExportImage, no CancelTask, the object downloaded', async () => {
  ecs.world.exportBytes = randomBytes(300_000);
  await withExportScript(STUCK, async () => {
    const dst = join(d.stateDir, 'restarted.qcow2');
    const id = await submitted(exportBody(image(), dst));
    const running = await processing(id);
    assert.equal(running.phase, 'exporting', JSON.stringify(running.error));
    const taskId = running.cloudTask.id;
    const exports = ecs.callsOf('ExportImage').length;
    await d.restart();
    // The cloud finishes the export while the daemon is back.
    const task = ecs.world.tasks.get(taskId)!;
    task.script = ['Finished'];
    task.step = 0;
    const done = await finished(id);
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(done.result.export.taskId, taskId);
    assert.equal(done.attempts, 2);
    assert.equal(ecs.callsOf('ExportImage').length, exports, 'no second ExportImage');
    assert.equal(ecs.callsOf('CancelTask').filter((c) => c.params.TaskId === taskId).length, 0, 'the stop did not cancel the task');
    assert.ok((await readFile(dst)).equals(ecs.world.exportBytes));
  });
});

test('an ECS export task that ends Failed fails the API job with CLOUD_TASK_FAILED and leaves no file', async () => {
  await withExportScript(['Waiting', 'Processing', 'Failed'], async () => {
    const dst = join(d.stateDir, 'failed.qcow2');
    const job = await finished(await submitted(exportBody(image(), dst)));
    assert.equal(job.state, 'failed');
    assert.equal(job.error.code, 'CLOUD_TASK_FAILED');
    assert.match(job.error.message, /ecs-export-image task t-\S+ ended in state "Failed"/);
    assert.equal(job.cloudTask.state, 'Failed');
    await assert.rejects(readFile(dst), { code: 'ENOENT' });
  });
});

test('cancelling an ECS export API job mid-task sends CancelTask to the ECS RPC API protocol fake, ends cancelled and leaves no file', async () => {
  await withExportScript(STUCK, async () => {
    const dst = join(d.stateDir, 'cancelled.qcow2');
    const id = await submitted(exportBody(image(), dst));
    const running = await processing(id);
    assert.equal(running.phase, 'exporting', JSON.stringify(running.error));
    assert.equal((await d.api('POST', `/v1/jobs/${id}/cancel`)).status, 202);
    const done = await finished(id);
    assert.equal(done.state, 'cancelled');
    assert.equal(ecs.callsOf('CancelTask').at(-1)?.params.TaskId, running.cloudTask.id);
    assert.equal(ecs.world.tasks.get(running.cloudTask.id)!.cancelled, true);
    await assert.rejects(readFile(dst), { code: 'ENOENT' });
  });
});

test('SIGINT to `vmxfer export ecs` mid-task sends CancelTask to the ECS RPC API protocol fake and exits 130 without a file', async () => {
  await withExportScript(STUCK, async () => {
    const dst = join(dir, 'sigint.qcow2');
    const args = ['export', 'ecs', '--image-id', image(), '--format', 'qcow2', '--oss-bucket', BUCKET, '--oss-prefix', 'web01', dst, '--region', REGION,
      '--endpoint', `http://${ecs.host}`, '--oss-endpoint', ossEndpoint(), '--poll-seconds', '0.005', '--state-dir', join(dir, 'state')];
    const { code, stderr } = await interruptWhen(args, ALI_ENV, /: Processing/);
    assert.equal(code, 130, stderr);
    const taskId = /ecs-export-image (t-\S+): Processing/.exec(stderr)![1]!;
    assert.equal(ecs.callsOf('CancelTask').at(-1)?.params.TaskId, taskId);
    assert.equal(ecs.world.tasks.get(taskId)!.cancelled, true);
    await assert.rejects(readFile(dst), { code: 'ENOENT' });
  });
});
