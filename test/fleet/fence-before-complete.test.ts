import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { vmxError } from '../../agent/core/errors.js';
import { JOB } from '../../agent/jobs/error-codes.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { FileSink } from '../../agent/sinks/file/file-sink.js';
import { uploadImage } from '../../agent/transfer/upload.js';
import { checkpointId, isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { tempDir } from '../helpers/tmp.js';

test('the lease check runs right before CompleteMultipartUpload: a fenced run leaves every part uploaded, the upload open and no object', async () => {
  const work = await tempDir('vmxfer-fence-complete-');
  try {
    const source = join(work.dir, 'disk.raw');
    await writeFile(source, randomBytes(3 * 5 * MiB + 123));
    const bucket = join(work.dir, 'bucket');
    await mkdir(bucket);
    const sink = new FileSink(bucket);
    const checkpoints = new FileCheckpointStore<UploadCheckpoint>(join(work.dir, 'checkpoints'), isUploadCheckpoint);
    const destination = 'file:///bucket/disk.raw';
    let checked = 0;
    const run = uploadImage({
      source, destination, key: 'disk.raw', sink, as: 'original', partSize: 5 * MiB, concurrency: 2, resume: false, checkpoints,
      beforeComplete: async () => {
        checked++;
        throw vmxError(JOB.FENCED, 'job taken over in the test');
      },
    });
    await assert.rejects(run, (e: { code?: string }) => e.code === 'JOB_FENCED');
    assert.equal(checked, 1);
    assert.equal(await sink.head('disk.raw'), undefined, 'no object: the upload was not completed');
    const cp = await checkpoints.load(checkpointId(source, destination));
    assert.equal(cp?.parts.length, 4, 'the new owner finds every part in the checkpoint');
  } finally {
    await work.cleanup();
  }
});
