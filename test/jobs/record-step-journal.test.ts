import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyProgress, type JobRecord } from '../../agent/jobs/job-types.js';
import { recordStepJournal, stepsOf } from '../../agent/jobs/record-step-journal.js';
import { jobView } from '../../agent/jobs/job-view.js';
import { STEP } from '../../agent/workflows/steps.js';

function record(extra: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'j-1', schema: 2, version: 1, owner: null, destinationKey: 's3|b|', steps: {}, kind: 'upload', state: 'queued', phase: null, source: '/x', destination: 's3://b/x.raw', format: 'raw', options: {},
    createdAt: '2026-01-01T00:00:00.000Z', startedAt: null, finishedAt: null, progress: emptyProgress(), result: null, error: null, attempts: 1,
    import: { target: 'aws-image', copy: [{ region: 'us-west-2' }] }, ...extra,
  };
}

const uploaded = { etag: 'e', objectSize: 1, sourceSha256: null, outputSha256: null, seconds: 1 };
const imported = { target: 'aws-image', taskIds: ['import-ami-1'], resourceIds: ['ami-1'] };

test('a record written before steps (uploaded, importTask, imported, copiesStarted, exportTask, exported, downloadedDisks) resumes from its steps: no finished step runs again', async () => {
  const rec = record({ uploaded, importTask: { taskId: 'import-ami-1' }, imported, copiesStarted: { 'us-west-2': 'ami-2' }, exportTask: { taskId: 'export-ami-1' }, exported: { taskId: 'export-ami-1', bucket: 'b', key: 'k' }, downloadedDisks: [] });
  let saves = 0;
  const journal = recordStepJournal(rec, async () => void saves++);
  let ran = 0;
  const run = async () => (ran++, 'again');
  assert.deepEqual(await journal.once(STEP.upload, run), uploaded);
  assert.deepEqual(await journal.once(STEP.imported, run), imported);
  assert.equal(ran, 0, 'the upload and the import are not run again');
  assert.deepEqual(journal.read(STEP.importStarted), { taskId: 'import-ami-1' });
  assert.deepEqual(journal.read(STEP.copiesStarted), { 'us-west-2': 'ami-2' });
  assert.deepEqual(journal.read(STEP.exportStarted), { taskId: 'export-ami-1' });
  assert.deepEqual(journal.read(STEP.exported), { taskId: 'export-ami-1', bucket: 'b', key: 'k' });
  assert.deepEqual(journal.read(STEP.disksDownloaded), []);
  for (const field of ['uploaded', 'importTask', 'imported', 'copiesStarted', 'exportTask', 'exported', 'downloadedDisks']) assert.equal(field in rec, false, `${field} moved into steps`);
  assert.equal(saves, 0, 'reading persists nothing');
});

test('stepsOf reads an old record without changing it; a null old field is no step', () => {
  const rec = record({ uploaded, importTask: null });
  assert.deepEqual(stepsOf(rec), { [STEP.upload]: uploaded });
  assert.deepEqual(rec.uploaded, uploaded, 'the record itself is left as it is');
});

test('once persists the finished step before it resolves; note persists at once; the API job shows no steps', async () => {
  const rec = record();
  const saved: Array<Record<string, unknown> | undefined> = [];
  const journal = recordStepJournal(rec, async () => void saved.push(structuredClone(rec.steps)));
  await journal.note(STEP.importStarted, { taskId: 't-1' });
  assert.deepEqual(saved.at(-1), { [STEP.importStarted]: { taskId: 't-1' } });
  assert.deepEqual(await journal.once(STEP.imported, async () => imported), imported);
  assert.deepEqual(saved.at(-1), { [STEP.importStarted]: { taskId: 't-1' }, [STEP.imported]: imported });
  assert.deepEqual(await journal.once(STEP.imported, async () => assert.fail('a finished step runs again')), imported);
  const view = jobView(rec) as unknown as Record<string, unknown>;
  assert.equal('steps' in view, false, 'docs/api.md Job has no steps');
});
