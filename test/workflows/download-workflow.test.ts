import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/tmp.js';
import { FileCheckpointStore, type CheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import { ProgressTracker } from '../../agent/core/progress.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';
import { partialPath } from '../../agent/transfer/download.js';
import { downloadWorkflow, type DownloadWorkflowRequest } from '../../agent/workflows/download.js';
import { sinkFactory } from '../../agent/workflows/sink-factory.js';

const RANGE = 64 * 1024;

/** Checkpoints that abort the run once `saves` ranges are recorded (a Ctrl-C, a daemon stopping). */
function abortingAfter(inner: CheckpointStore<DownloadCheckpoint>, saves: number, ac: AbortController): CheckpointStore<DownloadCheckpoint> {
  let n = 0;
  return {
    load: (id) => inner.load(id),
    list: () => inner.list(),
    delete: (id) => inner.delete(id),
    save: async (cp) => {
      await inner.save(cp);
      if (cp.ranges.length > 0 && ++n === saves) ac.abort();
    },
  };
}

test('download workflow (file store): an abort keeps the partial file and its checkpoint; resume "if-checkpointed" continues it, resume false starts over', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await mkdir(join(dir, 'store'));
    const bytes = randomBytes(10 * RANGE + 123);
    await writeFile(join(dir, 'store', 'obj.raw'), bytes);
    const url = pathToFileURL(join(dir, 'store', 'obj.raw')).href;
    const checkpoints = new FileCheckpointStore<DownloadCheckpoint>(join(dir, 'downloads'), isDownloadCheckpoint);
    const dst = join(dir, 'out.raw');
    const sinks = sinkFactory(DEFAULTS);
    const request = (resume: DownloadWorkflowRequest['resume'], store: CheckpointStore<DownloadCheckpoint> = checkpoints): DownloadWorkflowRequest => ({ url, destination: dst, concurrency: 1, rangeSize: RANGE, checkpoints: store, resume });

    const ac = new AbortController();
    await assert.rejects(downloadWorkflow(request('if-checkpointed', abortingAfter(checkpoints, 3, ac)), { sinks, progress: new ProgressTracker(), signal: ac.signal }), (err: any) => err.code === 'VMX_ABORTED');
    assert.ok((await stat(partialPath(dst))).size > 0, 'the partial file stays for a resume');
    assert.equal((await checkpoints.list()).length, 1, 'so does its checkpoint');

    const resumed = await downloadWorkflow(request('if-checkpointed'), { sinks, progress: new ProgressTracker(), signal: new AbortController().signal });
    assert.ok(resumed.rangesSkipped >= 3, `${resumed.rangesSkipped} ranges skipped`);
    assert.equal(resumed.rangesSkipped + resumed.rangesFetched, 11);
    assert.ok((await readFile(dst)).equals(bytes));

    const again = new AbortController();
    await assert.rejects(downloadWorkflow(request('if-checkpointed', abortingAfter(checkpoints, 2, again)), { sinks, progress: new ProgressTracker(), signal: again.signal }));
    const fresh = await downloadWorkflow(request(false), { sinks, progress: new ProgressTracker(), signal: new AbortController().signal });
    assert.equal(fresh.rangesSkipped, 0, 'resume false fetches every range');
    assert.ok((await readFile(dst)).equals(bytes));
  } finally {
    await cleanup();
  }
});
