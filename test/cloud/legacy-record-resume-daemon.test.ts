import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForJob } from '../helpers/daemon.js';
import { finishImport, importWorld, startImportDaemon, type ImportWorld } from '../helpers/import-world.js';
import { IMPORT_IMAGE_SCRIPT, type TaskStep } from '../helpers/ec2-query-fake/fake-state.js';
import { STEP } from '../../agent/workflows/steps.js';

/** The import task stays in `converting` until the test moves it on (the fake repeats a script's last step). */
const STUCK: TaskStep[] = [{ status: 'active', message: 'pending', progress: '2' }, { status: 'converting', message: 'converting', progress: '40' }];

let world: ImportWorld;
before(async () => {
  world = await importWorld('legacy-record', 5);
});
after(() => world?.close());

test('a job record in the format before steps (uploaded, importTask) resumes after a daemon restart (EC2 Query API protocol fake): no second ImportImage, no upload again', async () => {
  const { ec2, bucket, raw } = world;
  ec2.world.scripts.importImage = STUCK;
  const d = await startImportDaemon(world);
  try {
    const r = await d.api('POST', '/v1/jobs', { source: raw, destination: `s3://${bucket.name}/jobs/${randomBytes(3).toString('hex')}.vmdk`, format: 'vmdk', import: { target: 'aws-image' } });
    const id = r.json.job.id;
    const importing = await waitForJob(d, id, (j) => j.cloudTask?.state === 'converting' || ['completed', 'failed'].includes(j.state));
    assert.equal(importing.phase, 'importing', JSON.stringify(importing.error));
    const taskId = importing.cloudTask.id;
    const imports = ec2.callsOf('ImportImage').length;
    assert.equal(await d.stop(), 0);
    // Rewrite the record as a daemon before the JobStore and the step journal wrote it (schema 1,
    // agent/jobs/job-record-migration.ts): the resume fields at the top level, no schema, owner or steps.
    const file = join(d.stateDir, 'jobs', `${id}.json`);
    const { schema: _schema, owner: _owner, destinationKey: _key, ...rec } = JSON.parse(await readFile(file, 'utf8'));
    assert.ok(rec.steps?.[STEP.upload] && rec.steps?.[STEP.importStarted], `the stopped job recorded its upload and its task: ${JSON.stringify(rec.steps)}`);
    const { [STEP.upload]: uploaded, [STEP.importStarted]: importTask, ...rest } = rec.steps;
    assert.deepEqual(rest, {}, 'nothing else was recorded yet');
    delete rec.steps;
    await writeFile(file, JSON.stringify({ ...rec, version: 1, uploaded, importTask }));
    await d.restart();
    const { task, done } = await finishImport(d, ec2, taskId, id);
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(done.result.import.taskIds[0], taskId);
    assert.equal(done.result.import.resourceIds[0], task.resultId);
    assert.equal(ec2.callsOf('ImportImage').length, imports, 'no second ImportImage');
    assert.equal(task.cancelled, undefined, 'the stop did not cancel the task');
    assert.equal(done.result.etag, uploaded.etag);
    assert.equal(done.result.seconds, uploaded.seconds, 'the result is the recorded upload, not a second one');
    assert.match(d.output(), /resuming interrupted job/);
  } finally {
    ec2.world.scripts.importImage = IMPORT_IMAGE_SCRIPT;
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});
