import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { readyExportBucket } from '../helpers/export-daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';
import { downloadObject } from '../../agent/transfer/download.js';
import type { ExportOptions } from '../../agent/cloud/export-options.js';
import { MemoryJournal } from '../../agent/workflows/memory-journal.js';
import { exportWorkflow, type ExportWorkflowRequest } from '../../agent/workflows/export.js';
import { STEP } from '../../agent/workflows/steps.js';
import type { DownloadResult } from '../../agent/transfer/download.js';
import { dyingAfter, fakePorts } from './workflow-fakes.js';

let fake: Ec2QueryFake;
let dir: string;
let cleanup: () => Promise<void>;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
before(async () => {
  fake = await Ec2QueryFake.start();
  readyExportBucket(fake);
  fake.world.exportBytes = randomBytes(200_000);
  ({ dir, cleanup } = await tempDir());
  // The export bucket's sink signs with the SDK's chain; the fake checks the shape of SigV4, not the key.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKEFAKE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
after(async () => {
  process.env.AWS_ACCESS_KEY_ID = saved.id;
  process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  await fake.close();
  await cleanup();
});

const real = (action: string) => fake.callsOf(action).filter((c) => c.params.DryRun !== 'true');
const gets = () => fake.calls.filter((c) => c.action.startsWith('GET /exp/exports/')).length;

/** An AWS image export (EC2 Query API protocol fake, its S3 routes the bucket) downloaded to `name`.vmdk. */
function request(name: string): ExportWorkflowRequest<DownloadResult> {
  const checkpoints = new FileCheckpointStore<DownloadCheckpoint>(join(dir, 'downloads'), isDownloadCheckpoint);
  const e: ExportOptions = { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exp', prefix: 'exports/', clientToken: `tok-${name}` };
  return {
    export: e,
    destination: join(dir, `${name}.vmdk`),
    checkpoints,
    converting: false,
    download: (disk, progress, sink) => {
      return downloadObject({ url: disk.url, key: disk.key, sink, destination: disk.destination, concurrency: 2, resume: false, checkpoints, progress });
    },
  };
}

test('export workflow (EC2 Query API protocol fake): a rerun with the journal of a finished run makes no ExportImage and fetches no byte again', async () => {
  const journal = new MemoryJournal();
  const first = fakePorts(fake, journal);
  const before = real('ExportImage').length;
  const r = await exportWorkflow(request('done'), first.ports);
  assert.equal(real('ExportImage').length, before + 1);
  assert.ok((await readFile(join(dir, 'done.vmdk'))).equals(fake.world.exportBytes));
  const fetched = gets();
  const again = fakePorts(fake, new MemoryJournal(journal.snapshot()));
  const r2 = await exportWorkflow(request('done'), again.ports);
  assert.equal(real('ExportImage').length, before + 1, 'no second ExportImage');
  assert.equal(gets(), fetched, 'the finished disk is not fetched again');
  assert.deepEqual(r2.exported, r.exported);
  assert.equal(r2.disks[0]!.sha256, r.disks[0]!.sha256);
});

test('export workflow (EC2 Query API protocol fake): killed right after ExportImage named its task, the restart follows that task, no second ExportImage', async () => {
  const journal = new MemoryJournal();
  const stop = new AbortController();
  const dying = fakePorts(fake, dyingAfter(journal, STEP.exportStarted, () => stop.abort(new Error('killed'))), stop.signal);
  const before = real('ExportImage').length;
  await assert.rejects(exportWorkflow(request('mid-export'), dying.ports));
  const started = journal.read<{ taskId: string }>(STEP.exportStarted)!;
  assert.equal(real('ExportImage').length, before + 1);
  const again = fakePorts(fake, new MemoryJournal(journal.snapshot()));
  const r = await exportWorkflow(request('mid-export'), again.ports);
  assert.equal(real('ExportImage').length, before + 1, 'no second ExportImage');
  assert.equal(r.exported.taskId, started.taskId);
  assert.deepEqual(again.phases, ['downloading']);
});
