import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSink } from '../../agent/sinks/file/file-sink.js';
import { TokenBucket } from '../../agent/sinks/token-bucket.js';
import { throttledSink } from '../../agent/sinks/throttled-sink.js';
import { retryingSink } from '../../agent/sinks/retrying-sink.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

test('throttled sink (the --bwlimit decorator): parts sent and ranges read wait for their bytes; properties pass through every decorator', async () => {
  const { dir, cleanup } = await tempDir('vmxfer-throttle-');
  try {
    await mkdir(join(dir, 'b'));
    const inner = new FileSink(join(dir, 'b'));
    const bucket = new TokenBucket(4 * MiB);
    const sink = throttledSink(retryingSink(inner), bucket);
    assert.deepEqual([sink.kind, sink.bucket, sink.limits, sink.capabilities], [inner.kind, inner.bucket, inner.limits, inner.capabilities]);
    const body = randomBytes(6 * MiB);
    const id = await sink.createUpload('x.raw', {});
    let t0 = performance.now();
    // 6 MiB at 4 MiB/s with a 64 KiB burst: about 1.5 s.
    const part = await sink.uploadPart('x.raw', id, 1, body);
    const sendSeconds = (performance.now() - t0) / 1000;
    assert.ok(sendSeconds >= 1.3, `the part waited for its bytes (${sendSeconds.toFixed(2)} s)`);
    await sink.completeUpload('x.raw', id, [part]);
    // The bucket refills while Complete runs: empty it so the read starts from nothing.
    await bucket.take(bucket.burstBytes);
    t0 = performance.now();
    const back = await sink.getRange('x.raw', 0, body.length);
    const readSeconds = (performance.now() - t0) / 1000;
    assert.ok(readSeconds >= 1.4, `the range waited for its bytes: 6 MiB at 4 MiB/s with the bucket empty (${readSeconds.toFixed(2)} s)`);
    assert.ok(back.equals(body));
    assert.equal(throttledSink(inner, undefined), inner, 'no limit, no decorator');
  } finally {
    await cleanup();
  }
});
