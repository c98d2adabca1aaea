import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { MiB } from '../../agent/core/units.js';
import { decorateSink } from '../../agent/sinks/decorate-sink.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { uploadImage } from '../../agent/transfer/upload.js';
import { sha256File } from '../helpers/hash.js';
import { fileStore } from '../helpers/transfer-stores.js';
import { tempDir } from '../helpers/tmp.js';

// S3 refuses parts whose checksum algorithm is not the one the upload was created with: a resume that
// would send CRC-32C after Content-MD5 parts (another --store-checksum) is refused before any request.
test('a resume whose store checksum differs from the confirmed parts\' is refused naming the one to use; with it the upload completes', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'disk.raw');
    await writeFile(src, randomBytes(4 * 5 * MiB));
    const store = await fileStore(dir);
    const key = 'resume/disk.raw';
    const checkpoints = new FileCheckpointStore<UploadCheckpoint>(join(dir, 'cp'), isUploadCheckpoint);
    const base = { source: src, destination: store.url(key), key, as: 'original', partSize: 5 * MiB, concurrency: 1, checkpoints };
    const ctl = new AbortController();
    await assert.rejects(
      uploadImage({ ...base, sink: store.sink(), resume: false, signal: ctl.signal, onPart: (e) => e.state === 'sent' && ctl.abort() }),
      (e) => isVmxferError(e) && e.code === 'VMX_ABORTED',
    );

    const md5Sink = store.sink();
    assert.equal(md5Sink.capabilities.partChecksum, 'md5');
    const crcSink = { ...decorateSink(md5Sink, {}), capabilities: { ...md5Sink.capabilities, partChecksum: 'crc32c' as const } };
    let requests = 0;
    const counted = decorateSink(crcSink, { listParts: (...a) => (requests++, crcSink.listParts(...a)) });
    await assert.rejects(uploadImage({ ...base, sink: { ...counted, capabilities: crcSink.capabilities }, resume: true }), (e: unknown) => {
      assert.ok(isVmxferError(e) && e.code === 'XFER_RESUME_MISMATCH', String(e));
      assert.match((e as Error).message, /1 confirmed part\(s\) were sent with md5 checksums and the store is now set to crc32c: .*--store-checksum md5/);
      return true;
    });
    assert.equal(requests, 0, 'refused before the store is asked for its parts');

    const done = await uploadImage({ ...base, sink: md5Sink, resume: true });
    assert.equal(done.partsSkipped, 1, 'the confirmed part is kept');
    assert.equal(await store.objectSha256(key), await sha256File(src));
  } finally {
    await cleanup();
  }
});
