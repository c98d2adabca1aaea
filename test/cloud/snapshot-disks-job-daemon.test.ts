import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { importWorld, startImportDaemon, type ImportWorld } from '../helpers/import-world.js';
import { IMPORT_IMAGE_SCRIPT, IMPORT_SNAPSHOT_SCRIPT, type TaskStep } from '../helpers/ec2-query-fake/fake-state.js';
import type { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';

/** A snapshot task stays `active` until the test moves it on (the fake repeats a script's last step). */
const STUCK: TaskStep[] = [{ status: 'active', message: 'pending', progress: '3' }, { status: 'active', message: 'downloading/converting', progress: '42' }];
const DONE: TaskStep[] = [{ status: 'completed', message: '' }];

let world: ImportWorld;
let ec2: Ec2QueryFake;
before(async () => {
  world = await importWorld('snap-disks', 3);
  ec2 = world.ec2;
});
after(() => world?.close());

function snapshotTasks() {
  return [...ec2.world.tasks.values()].filter((t) => t.kind === 'import-snapshot');
}

function finish(taskId: string): void {
  const t = ec2.world.tasks.get(taskId)!;
  t.script = DONE;
  t.step = 0;
}

test('a three-disk aws-snapshot API job restarted while disk 2 imports, against the EC2 Query API protocol fake: one ClientToken per disk, three snapshots in disk order, no duplicate task', async () => {
  ec2.world.scripts.importSnapshot = STUCK;
  const d: TestDaemon = await startImportDaemon(world);
  try {
    const key = `vm/${randomBytes(3).toString('hex')}`;
    const extraDisks = [{ format: 'raw', url: `s3://${world.bucket.name}/${key}-d2.raw` }, { format: 'raw', url: `s3://${world.bucket.name}/${key}-d3.raw` }];
    const r = await d.api('POST', '/v1/jobs', { source: world.raw, destination: `s3://${world.bucket.name}/${key}-d1.raw`, format: 'raw', import: { target: 'aws-snapshot', extraDisks } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const id = r.json.job.id;
    const first = await waitForJob(d, id, (j) => j.cloudTask?.message === 'downloading/converting' || ['completed', 'failed'].includes(j.state));
    assert.equal(first.phase, 'importing', JSON.stringify(first.error));
    finish(first.cloudTask.id);
    const second = await waitForJob(d, id, (j) => (j.cloudTask?.id !== first.cloudTask.id && j.cloudTask?.message === 'downloading/converting') || ['completed', 'failed'].includes(j.state));
    assert.equal(second.phase, 'importing', JSON.stringify(second.error));
    await d.restart();
    ec2.world.scripts.importSnapshot = IMPORT_SNAPSHOT_SCRIPT;
    finish(second.cloudTask.id);
    const done = await waitForJob(d, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    const tasks = snapshotTasks();
    assert.equal(tasks.length, 3, 'one snapshot task per disk, none twice');
    assert.deepEqual(tasks.map((t) => t.params['DiskContainer.UserBucket.S3Key']), [`${key}-d1.raw`, `${key}-d2.raw`, `${key}-d3.raw`]);
    assert.deepEqual(done.result.import.taskIds, tasks.map((t) => t.id));
    assert.deepEqual(done.result.import.resourceIds, tasks.map((t) => t.resultId), 'each disk its own snapshot, in disk order');
    const tokens = new Set(tasks.map((t) => t.params.ClientToken));
    assert.equal(tokens.size, 3, 'a ClientToken per disk (one token for other parameters is IdempotentParameterMismatch)');
    assert.equal(done.attempts, 2);
  } finally {
    ec2.world.scripts.importSnapshot = IMPORT_SNAPSHOT_SCRIPT;
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});

test('a two-disk aws-snapshot API job with bootMode uefi and platform Linux, restarted while ImportImage registers the snapshots, against the EC2 Query API protocol fake: one ImportImage of both snapshots, result.import.imageId', async () => {
  ec2.world.scripts.importImage = STUCK;
  const d: TestDaemon = await startImportDaemon(world);
  try {
    const key = `vm/${randomBytes(3).toString('hex')}`;
    const extraDisks = [{ format: 'raw', url: `s3://${world.bucket.name}/${key}-d2.raw` }];
    const r = await d.api('POST', '/v1/jobs', { source: world.raw, destination: `s3://${world.bucket.name}/${key}-d1.raw`, format: 'raw', import: { target: 'aws-snapshot', extraDisks, bootMode: 'uefi', platform: 'Linux' } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const id = r.json.job.id;
    const registering = await waitForJob(d, id, (j) => (j.cloudTask?.kind === 'aws-image' && j.cloudTask?.message === 'downloading/converting') || ['completed', 'failed'].includes(j.state));
    assert.equal(registering.phase, 'importing', JSON.stringify(registering.error));
    await d.restart();
    finish(registering.cloudTask.id);
    const done = await waitForJob(d, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    const images = [...ec2.world.tasks.values()].filter((t) => t.kind === 'import-image');
    assert.equal(images.length, 1, 'the restarted job follows the ImportImage task it started');
    assert.equal(ec2.callsOf('ImportImage').filter((c) => c.params.DryRun !== 'true').length, 1);
    const snaps = snapshotTasks().filter((t) => t.params['DiskContainer.UserBucket.S3Key']?.startsWith(key));
    assert.deepEqual([images[0]!.params['DiskContainer.1.SnapshotId'], images[0]!.params['DiskContainer.2.SnapshotId']], snaps.map((t) => t.resultId));
    assert.equal(done.result.import.imageId, images[0]!.resultId);
    assert.equal(done.result.import.imageTaskId, images[0]!.id);
    assert.deepEqual(done.result.import.resourceIds, snaps.map((t) => t.resultId));
  } finally {
    ec2.world.scripts.importImage = IMPORT_IMAGE_SCRIPT;
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});
