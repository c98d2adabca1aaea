import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { TestBucket } from '../helpers/rgw.js';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { getObjectBytes } from '../helpers/s3-object.js';
import type { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { finishImport, importWorld, startImportDaemon, type ImportWorld } from '../helpers/import-world.js';
import { closeFeed, feed } from '../helpers/feed-socket.js';
import { IMPORT_IMAGE_SCRIPT, type TaskStep } from '../helpers/ec2-query-fake/fake-state.js';

const pexec = promisify(execFile);
let bucket: TestBucket;
let ec2: Ec2QueryFake;
let raw: string;

/** The import task stays in `converting` until the test moves it on (the fake repeats a script's last step). */
const STUCK: TaskStep[] = [{ status: 'active', message: 'pending', progress: '2' }, { status: 'converting', message: 'converting', progress: '40' }];

let world: ImportWorld;
before(async () => {
  world = await importWorld('import-jobs', 5);
  ({ raw, bucket, ec2 } = world);
});
after(() => world?.close());

function daemon(): Promise<TestDaemon> {
  return startImportDaemon(world);
}

function submit(d: TestDaemon, key: string, cloudImport: Record<string, unknown> = { target: 'aws-image' }) {
  return d.api('POST', '/v1/jobs', { source: raw, destination: `s3://${bucket.name}/${key}`, format: 'vmdk', import: cloudImport });
}

async function promtool(text: string): Promise<void> {
  const child = pexec('promtool', ['check', 'metrics']);
  child.child.stdin!.end(text);
  await child;
}

test('POST /v1/jobs refuses a bad import object with a 400 naming the field', async () => {
  const d = await daemon();
  try {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ target: 'gce-image' }, 'import.target'],
      [{ target: 'aws-image', licenseType: 'BYOL', usageOperation: 'RunInstances:0800' }, 'import.usageOperation'],
      [{ target: 'aws-image', bootMode: 'BIOS' }, 'import.bootMode'],
      [{ target: 'aws-image', imageName: 'x' }, 'import.imageName'],
      [{ target: 'aws-snapshot', encrypted: 'yes' }, 'import.encrypted'],
      [{ target: 'ecs-image', imageName: 'web01' }, 'import.target'],
    ];
    for (const [body, field] of cases) {
      const r = await submit(d, 'never', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, 'API_BAD_REQUEST');
      assert.equal(r.json.error.field, field, JSON.stringify(body));
    }
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

test('an API upload job with an aws-image import: active/uploading → active/importing → completed, cloudTask in GET and on the feed, /metrics counts cloud tasks and passes promtool', async () => {
  const d = await daemon();
  const { ws, got } = await feed(d);
  try {
    const key = `jobs/${randomBytes(3).toString('hex')}.vmdk`;
    const r = await submit(d, key, { target: 'aws-image', bootMode: 'uefi', description: 'web01', tags: { team: 'ops' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.job.import.target, 'aws-image');
    assert.equal(r.json.job.cloudTask, null);
    const id = r.json.job.id;
    const job = await waitForJob(d, id, (j) => ['completed', 'failed'].includes(j.state));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    assert.equal(job.cloudTask.kind, 'aws-image');
    assert.match(job.cloudTask.id, /^import-ami-[0-9a-f]{17}$/);
    assert.equal(job.cloudTask.state, 'completed');
    assert.match(job.result.import.resourceIds[0], /^ami-[0-9a-f]{17}$/);
    assert.equal(job.uploaded, undefined, 'internal fields stay out of the API');
    const call = ec2.callsOf('ImportImage').at(-1)!;
    assert.equal(call.params['DiskContainer.1.UserBucket.S3Key'], key);
    assert.equal(call.params['DiskContainer.1.Format'], 'VMDK');
    assert.equal(call.params.BootMode, 'uefi');
    assert.equal((await getObjectBytes(bucket.client, bucket.name, key)).subarray(0, 4).toString('latin1'), 'KDMV', 'the object is a VMDK');

    await new Promise((res) => setTimeout(res, 300));
    const mine = got.filter((m) => m.type === 'job' && m.job.id === id).map((m) => m.job);
    const phases = mine.map((j) => `${j.state}${j.phase ? `/${j.phase}` : ''}`).filter((s, i, a) => s !== a[i - 1]);
    assert.deepEqual(phases.filter((p) => p.startsWith('active/uploading') || p.startsWith('active/importing') || p === 'completed').filter((s, i, a) => s !== a[i - 1]), ['active/uploading', 'active/importing', 'completed']);
    const states = mine.filter((j) => j.cloudTask).map((j) => j.cloudTask.state).filter((s, i, a) => s !== a[i - 1]);
    assert.deepEqual(states, ['active', 'validating', 'validated', 'converting', 'updating', 'completed']);
    assert.ok(mine.some((j) => j.phase === 'importing' && j.cloudTask?.progress === 40));

    const metrics = (await d.api('GET', '/metrics')).text;
    assert.match(metrics, /^vmxfer_cloud_task_updates_total\{kind="aws-image",state="converting",agent="[^"]+"\} 1$/m);
    assert.match(metrics, /^vmxfer_cloud_task_updates_total\{kind="aws-image",state="completed",agent="[^"]+"\} 1$/m);
    await promtool(metrics);
  } finally {
    await closeFeed(ws);
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

async function converting(d: TestDaemon): Promise<string | undefined> {
  const deadline = performance.now() + 5000;
  for (;;) {
    const n = (await d.api('GET', '/metrics')).text.match(/^vmxfer_cloud_tasks\{kind="aws-image",state="converting"\} (\d+)$/m)?.[1];
    if (n !== undefined || performance.now() > deadline) return n;
    await new Promise((res) => setTimeout(res, 50));
  }
}

test('cancelling an API job mid-import cancels the task on the EC2 Query API protocol fake (CancelImportTask) and ends cancelled', async () => {
  ec2.world.scripts.importImage = STUCK;
  const d = await daemon();
  try {
    const r = await submit(d, `jobs/${randomBytes(3).toString('hex')}.vmdk`);
    const id = r.json.job.id;
    const importing = await waitForJob(d, id, (j) => j.cloudTask?.state === 'converting' || ['completed', 'failed'].includes(j.state));
    assert.equal(importing.phase, 'importing', JSON.stringify(importing.error));
    // The gauge follows the store's change feed, which may reach the tally a moment after the API shows the state.
    assert.equal(await converting(d), '1');
    const c = await d.api('POST', `/v1/jobs/${id}/cancel`);
    assert.equal(c.status, 202);
    const done = await waitForJob(d, id, (j) => ['cancelled', 'completed', 'failed'].includes(j.state));
    assert.equal(done.state, 'cancelled');
    const taskId = importing.cloudTask.id;
    assert.equal(ec2.callsOf('CancelImportTask').at(-1)?.params.ImportTaskId, taskId);
    assert.equal(ec2.world.tasks.get(taskId)!.cancelled, 'vmxfer job cancelled');
  } finally {
    ec2.world.scripts.importImage = IMPORT_IMAGE_SCRIPT;
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

test('a daemon restarted mid-import follows the same import task: no second ImportImage, no upload again, no cancel', async () => {
  ec2.world.scripts.importImage = STUCK;
  const d = await daemon();
  try {
    const r = await submit(d, `jobs/${randomBytes(3).toString('hex')}.vmdk`);
    const id = r.json.job.id;
    const importing = await waitForJob(d, id, (j) => j.cloudTask?.state === 'converting' || ['completed', 'failed'].includes(j.state));
    assert.equal(importing.phase, 'importing', JSON.stringify(importing.error));
    const taskId = importing.cloudTask.id;
    const imports = ec2.callsOf('ImportImage').length;
    await d.restart();
    // The cloud finishes the conversion while the daemon is back.
    const { task, done } = await finishImport(d, ec2, taskId, id);
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(done.cloudTask.id, taskId);
    assert.equal(done.result.import.taskIds[0], taskId);
    assert.equal(done.result.import.resourceIds[0], task.resultId);
    assert.equal(ec2.callsOf('ImportImage').length, imports, 'no second import');
    assert.equal(task.cancelled, undefined, 'the stop did not cancel the task');
    assert.equal(done.attempts, 2);
    assert.match(d.output(), /resuming interrupted job/);
  } finally {
    ec2.world.scripts.importImage = IMPORT_IMAGE_SCRIPT;
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});
