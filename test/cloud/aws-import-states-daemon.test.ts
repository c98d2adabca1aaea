import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { importWorld, startImportDaemon, type ImportWorld } from '../helpers/import-world.js';
import { IMPORT_IMAGE_SCRIPT, type TaskStep } from '../helpers/ec2-query-fake/fake-state.js';
import { distinct, openFeed, type JobFeed } from '../helpers/job-feed.js';

/**
 * Every state of an AWS import task (VM Import/Export User Guide, "Monitor an import image task": active,
 * validating, validated, converting, updating, completed, deleting, deleted) as the EC2 Query API protocol
 * fake walks it, seen in the job record, /metrics and the WebSocket feed of a daemon job.
 */
let world: ImportWorld;
let d: TestDaemon;
let feed: JobFeed;

before(async () => {
  world = await importWorld('import-states', 2);
  d = await startImportDaemon(world);
  feed = await openFeed(d);
});
after(async () => {
  await feed?.close();
  await d?.stop();
  if (d) await rm(d.stateDir, { recursive: true, force: true });
  await world?.close();
});

/** An upload job with an aws-image import whose task follows `script`; resolves with the finished job. */
async function importJob(script: TaskStep[]): Promise<any> {
  world.ec2.world.scripts.importImage = script;
  try {
    const r = await d.api('POST', '/v1/jobs', { source: world.raw, destination: `s3://${world.bucket.name}/states/${randomBytes(3).toString('hex')}.raw`, format: 'original', import: { target: 'aws-image' } });
    assert.equal(r.status, 201, r.text);
    return await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
  } finally {
    world.ec2.world.scripts.importImage = IMPORT_IMAGE_SCRIPT;
  }
}

async function updates(kind: string, state: string): Promise<number> {
  const m = new RegExp(`^vmxfer_cloud_task_updates_total\\{kind="${kind}",state="${state}",agent="[^"]+"\\} (\\d+)$`, 'm').exec((await d.api('GET', '/metrics')).text);
  return Number(m?.[1] ?? 0);
}

/** The feed's view of one job once it has settled: its task states and its last job state. */
async function fedStates(id: string): Promise<{ task: string[]; final: string }> {
  await new Promise((r) => setTimeout(r, 200));
  const mine = feed.jobs(id);
  return { task: distinct(mine.filter((j) => j.cloudTask).map((j) => `${j.cloudTask.state}:${j.cloudTask.message}`)), final: mine.at(-1)?.state };
}

test('a completed AWS import: each of active, validating, validated, converting, updating, completed reaches the feed (with its message) and is counted once in /metrics', async () => {
  const job = await importJob(IMPORT_IMAGE_SCRIPT);
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.equal(job.cloudTask.state, 'completed');
  const fed = await fedStates(job.id);
  assert.deepEqual(fed.task, IMPORT_IMAGE_SCRIPT.map((s) => `${s.status}:${s.message}`));
  assert.equal(fed.final, 'completed');
  for (const s of IMPORT_IMAGE_SCRIPT) assert.equal(await updates('aws-image', s.status), 1, s.status);
});

test('an AWS import task that the cloud moves to deleting fails the job with CLOUD_TASK_FAILED and its StatusMessage; the job record, feed and /metrics show deleting', async () => {
  const reason = 'ClientError: Disk validation failed [Unsupported VMDK File Format]';
  const job = await importJob([{ status: 'active', message: 'pending', progress: '2' }, { status: 'deleting', message: reason }, { status: 'deleted', message: reason }]);
  assert.equal(job.state, 'failed');
  assert.equal(job.error.code, 'CLOUD_TASK_FAILED');
  assert.ok(job.error.message.includes(reason), job.error.message);
  assert.deepEqual([job.cloudTask.state, job.cloudTask.message], ['deleting', reason]);
  const fed = await fedStates(job.id);
  assert.deepEqual(fed.task, ['active:pending', `deleting:${reason}`]);
  assert.equal(fed.final, 'failed');
  assert.equal(await updates('aws-image', 'deleting'), 1);
});

test('an AWS import task first seen already deleted (its end state) fails the job with CLOUD_TASK_FAILED and its StatusMessage instead of polling on', async () => {
  const reason = 'ServerError: an internal error occurred';
  const job = await importJob([{ status: 'active', message: 'pending', progress: '2' }, { status: 'deleted', message: reason }]);
  assert.equal(job.state, 'failed');
  assert.equal(job.error.code, 'CLOUD_TASK_FAILED');
  assert.match(job.error.message, /ended in state "deleted": ServerError: an internal error occurred/);
  assert.deepEqual([job.cloudTask.state, job.cloudTask.message], ['deleted', reason]);
  const fed = await fedStates(job.id);
  assert.deepEqual(fed.task, ['active:pending', `deleted:${reason}`]);
  assert.equal(fed.final, 'failed');
  assert.equal(await updates('aws-image', 'deleted'), 1);
  assert.equal(world.ec2.world.tasks.get(job.cloudTask.id)!.step, 2, 'no Describe call after the end state');
});
