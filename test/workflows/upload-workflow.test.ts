import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { tempDir } from '../helpers/tmp.js';
import { sourceFacts } from '../../agent/cloud/upload-import/source-facts.js';
import { planUploadImport } from '../../agent/cloud/upload-import/upload-preflight.js';
import type { ImportOptions } from '../../agent/cloud/upload-import/import-options.js';
import { MemoryJournal } from '../../agent/workflows/memory-journal.js';
import { uploadWorkflow, type UploadWorkflowRequest } from '../../agent/workflows/upload.js';
import { STEP } from '../../agent/workflows/steps.js';
import { dyingAfter, fakePorts, uploadCheckpoints } from './workflow-fakes.js';

let fake: Ec2QueryFake;
let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  fake = await Ec2QueryFake.start();
  ({ dir, cleanup } = await tempDir());
  await mkdir(join(dir, 'store'));
});
after(async () => {
  await fake.close();
  await cleanup();
});

const real = (action: string) => fake.callsOf(action).filter((c) => c.params.DryRun !== 'true');

/** An aws-image import of a 2 MiB raw disk uploaded to a file:// store, copied to us-west-2 (the EC2 Query API protocol fake). */
async function request(name: string, extra: Partial<ImportOptions> = {}): Promise<UploadWorkflowRequest> {
  const source = join(dir, `${name}.raw`);
  await writeFile(source, randomBytes(64 * 1024));
  await truncate(source, 2 * 1024 * 1024);
  const options: ImportOptions = { target: 'aws-image', checkRole: false, clientToken: `tok-${name}`, copy: [{ region: 'us-west-2', clientToken: `copy-${name}` }], ...extra };
  const plan = planUploadImport(options, await sourceFacts(source, {}), 'original');
  const transfer = { source, destination: `file://${dir}/store/${name}.raw`, as: plan.as, concurrency: 2, resume: 'if-compatible' as const, checkpoints: uploadCheckpoints(dir) };
  return { transfer, import: { options, plan } };
}

test('upload workflow (EC2 Query API protocol fake): a rerun with the journal of a finished run uploads, imports and copies nothing again', async () => {
  const journal = new MemoryJournal();
  const req = await request('done');
  const before = { imports: real('ImportImage').length, copies: real('CopyImage').length };
  const first = await uploadWorkflow(req, fakePorts(fake, journal).ports);
  assert.equal(real('ImportImage').length, before.imports + 1);
  assert.equal(real('CopyImage').length, before.copies + 1);
  assert.equal(first.distributed?.copies[0]?.region, 'us-west-2');
  // The restarted process finds the journal, not the source: a second upload would fail on the missing file.
  await rm(req.transfer.source);
  const second = await uploadWorkflow(req, fakePorts(fake, new MemoryJournal(journal.snapshot())).ports);
  assert.equal(real('ImportImage').length, before.imports + 1, 'no second ImportImage');
  assert.equal(real('CopyImage').length, before.copies + 1, 'no second CopyImage');
  assert.deepEqual(second.imported?.resourceIds, first.imported?.resourceIds);
  assert.deepEqual(second.distributed, first.distributed);
});

test('upload workflow (EC2 Query API protocol fake): killed right after ImportImage named its task, the restart follows that task, no second ImportImage', async () => {
  const journal = new MemoryJournal();
  const req = await request('mid-import');
  const before = real('ImportImage').length;
  const stop = new AbortController();
  const dying = fakePorts(fake, dyingAfter(journal, STEP.importStarted, () => stop.abort(new Error('killed'))), stop.signal);
  await assert.rejects(uploadWorkflow(req, dying.ports));
  const started = journal.read<{ taskId: string }>(STEP.importStarted)!;
  assert.equal(real('ImportImage').length, before + 1);
  assert.equal(journal.read(STEP.imported), undefined, 'the import had not finished');
  const again = fakePorts(fake, new MemoryJournal(journal.snapshot()));
  const r = await uploadWorkflow(req, again.ports);
  assert.equal(real('ImportImage').length, before + 1, 'no second ImportImage');
  assert.deepEqual(r.imported?.taskIds, [started.taskId]);
  assert.ok(again.statuses.some((s) => s.id === started.taskId), 'the restart followed the recorded task');
});

test('upload workflow (EC2 Query API protocol fake): killed right after CopyImage named its copy, the restart follows that copy, no second CopyImage', async () => {
  const journal = new MemoryJournal();
  const req = await request('mid-copy');
  const stop = new AbortController();
  const dying = fakePorts(fake, dyingAfter(journal, STEP.copiesStarted, () => stop.abort(new Error('killed'))), stop.signal);
  await assert.rejects(uploadWorkflow(req, dying.ports));
  const copies = { imports: real('ImportImage').length, copies: real('CopyImage').length };
  const started = journal.read<Record<string, string>>(STEP.copiesStarted)!;
  const r = await uploadWorkflow(req, fakePorts(fake, new MemoryJournal(journal.snapshot())).ports);
  assert.equal(real('ImportImage').length, copies.imports, 'no second ImportImage');
  assert.equal(real('CopyImage').length, copies.copies, 'no second CopyImage');
  assert.deepEqual(r.distributed?.copies, [{ region: 'us-west-2', imageId: started['us-west-2'] }]);
});

test('upload workflow (EC2 Query API protocol fake): the shares are their own step: a restart after the copies shares without copying again, one after the shares calls nothing', async () => {
  const journal = new MemoryJournal();
  const req = await request('shares', { share: { accounts: ['111122223333'] } });
  const first = await uploadWorkflow(req, fakePorts(fake, journal).ports);
  assert.deepEqual(first.distributed?.shares.map((s) => s.accounts.map((a) => a.shared)), [[true], [true]], 'the imported AMI and its copy');
  const calls = { copies: real('CopyImage').length, shares: real('ModifyImageAttribute').length };
  const { [STEP.shared]: _shares, ...copiedOnly } = journal.snapshot();
  const resharing = await uploadWorkflow(req, fakePorts(fake, new MemoryJournal(copiedOnly)).ports);
  assert.equal(real('CopyImage').length, calls.copies, 'no second CopyImage');
  assert.equal(real('ModifyImageAttribute').length, calls.shares * 2, 'the shares run again, once per image');
  assert.deepEqual(resharing.distributed, first.distributed);
  await uploadWorkflow(req, fakePorts(fake, new MemoryJournal(journal.snapshot())).ports);
  assert.equal(real('ModifyImageAttribute').length, calls.shares * 2, 'a finished share step is not run again');
});
