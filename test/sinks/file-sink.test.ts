import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSink } from '../../agent/sinks/file/file-sink.js';
import { STORE } from '../../agent/sinks/error-codes.js';
import { tempDir } from '../helpers/tmp.js';
import { rejectsWithCode, runSinkConformance } from './sink-conformance.js';

runSinkConformance('file sink on a local directory', async () => {
  const { dir, cleanup } = await tempDir('vmxfer-file-sink-');
  const bucket = join(dir, 'bucket');
  await mkdir(bucket);
  return { sink: new FileSink(bucket), missingBucket: new FileSink(join(dir, 'no-such-dir')), cleanup };
});

test('file sink refuses keys that escape the bucket directory or name its state', async () => {
  const { dir, cleanup } = await tempDir('vmxfer-file-sink-');
  try {
    const sink = new FileSink(dir);
    for (const bad of ['../evil', 'a/../../evil', '/etc/passwd', '', 'a//b', './a', '.vmxfer-uploads/x', '.vmxfer-meta/x.json', 'a\0b']) {
      await rejectsWithCode(sink.createUpload(bad, {}), STORE.BAD_KEY, false);
      await rejectsWithCode(sink.getRange(bad, 0, 1), STORE.BAD_KEY, false);
    }
    assert.deepEqual(await readdir(dir), [], 'nothing was written');
  } finally {
    await cleanup();
  }
});

test('file sink leaves no temporary files after complete and reports unknown files by their MD5', async () => {
  const { dir, cleanup } = await tempDir('vmxfer-file-sink-');
  try {
    const sink = new FileSink(dir);
    const id = await sink.createUpload('d/disk.raw', {});
    const part = await sink.uploadPart('d/disk.raw', id, 1, Buffer.from('hello'));
    await sink.completeUpload('d/disk.raw', id, [part]);
    assert.deepEqual((await readdir(join(dir, 'd'))).sort(), ['disk.raw']);
    assert.deepEqual(await readdir(join(dir, '.vmxfer-uploads')), [], 'the staging directory is gone');
    // A file written by someone else has no sidecar: head falls back to the MD5 of its bytes.
    await writeFile(join(dir, 'd', 'other.raw'), 'abc');
    assert.deepEqual(await sink.head('d/other.raw'), { key: 'd/other.raw', size: 3, etag: '900150983cd24fb0d6963f7d28e17f72', metadata: {} });
  } finally {
    await cleanup();
  }
});
