import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { FileSink } from '../../agent/sinks/file/file-sink.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { uploadIncremental } from '../../agent/incremental/incremental-upload.js';
import { manifestKey, writeManifest, type IncrementalManifest } from '../../agent/incremental/manifest.js';
import { tempDir } from '../helpers/tmp.js';
import { sha256File } from '../helpers/hash.js';
import { writeSparseDisk } from '../helpers/changed-disk.js';

const PART = 5 * MiB;

async function setup() {
  const { dir, cleanup } = await tempDir('vmxfer-incr-guard-');
  const bucket = join(dir, 'bucket');
  await mkdir(bucket);
  const sink = new FileSink(bucket);
  const checkpoints = new FileCheckpointStore<UploadCheckpoint>(join(dir, 'cp'), isUploadCheckpoint);
  const src = join(dir, 'disk.raw');
  await writeSparseDisk(src, 4 * PART, 6, MiB);
  const warnings: string[] = [];
  const run = (key: string) =>
    uploadIncremental({ source: src, destination: `file://${bucket}/${key}`, key, sink, as: 'raw', partSize: PART, concurrency: 2, resume: false, checkpoints }, (w) => warnings.push(w));
  return { dir, bucket, sink, src, run, warnings, cleanup };
}

test('file store: a manifest whose ETag matches an object with other bytes (edited behind it) is caught by the copied part\'s ETag: the part is sent, nothing more is copied, the object equals the source', async () => {
  const t = await setup();
  try {
    const first = await t.run('disk.raw');
    assert.equal(first.incremental.base, 'none');
    const manifest = JSON.parse(await readFile(join(t.bucket, manifestKey('disk.raw')), 'utf8')) as IncrementalManifest;
    // Another writer replaces the object with the same size, and the manifest is re-pointed at its ETag.
    const other = randomBytes(4 * PART);
    const id = await t.sink.createUpload('disk.raw', {});
    const parts = [];
    for (let n = 0; n < 4; n++) parts.push(await t.sink.uploadPart('disk.raw', id, n + 1, other.subarray(n * PART, (n + 1) * PART)));
    const edited = await t.sink.completeUpload('disk.raw', id, parts);
    await writeManifest(t.sink, { ...manifest, objectEtag: edited.etag });
    const again = await t.run('disk.raw');
    assert.equal(again.incremental.base, 'manifest', 'size and ETag agree, so the manifest looked usable');
    assert.equal(again.partsCopied, 0, 'the first copy was checked and refused, no other part was copied');
    assert.equal(again.partsSent, 4);
    assert.match(t.warnings.join('\n'), /edited behind its manifest/);
    assert.equal(await sha256File(join(t.bucket, 'disk.raw')), await sha256File(t.src), 'the object is the source, not a stitch of the edited object');
  } finally {
    await t.cleanup();
  }
});

test('file store: an unreadable manifest means a full upload with a warning, and a fresh manifest after it', async () => {
  const t = await setup();
  try {
    await t.run('disk.raw');
    await writeFile(join(t.bucket, manifestKey('disk.raw')), '{"version":1,');
    const full = await t.run('disk.raw');
    assert.equal(full.incremental.base, 'stale-manifest');
    assert.equal(full.partsCopied, 0);
    assert.match(t.warnings.join('\n'), /INCR_MANIFEST_CORRUPT|not JSON/);
    const fh = await open(t.src, 'r+');
    await fh.write(randomBytes(100), 0, 100, PART + 7);
    await fh.close();
    const next = await t.run('disk.raw');
    assert.deepEqual([next.incremental.base, next.partsSent, next.partsCopied, next.bytesSent], ['manifest', 1, 3, PART]);
    assert.equal(await sha256File(join(t.bucket, 'disk.raw')), await sha256File(t.src));
  } finally {
    await t.cleanup();
  }
});
