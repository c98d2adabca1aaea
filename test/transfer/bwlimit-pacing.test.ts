import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { KiB, MiB } from '../../agent/core/units.js';
import { STORE } from '../../agent/sinks/error-codes.js';
import { retryingSink } from '../../agent/sinks/retrying-sink.js';
import { S3Sink } from '../../agent/sinks/s3/s3-sink.js';
import { StallState, stallGuardedSink } from '../../agent/sinks/stall-guard.js';
import { TokenBucket } from '../../agent/sinks/token-bucket.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { uploadImage } from '../../agent/transfer/upload.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { tempDir } from '../helpers/tmp.js';
import { FAST_RETRY, s3Store } from '../helpers/transfer-stores.js';

/**
 * --bwlimit paces the byte stream, measured where the bytes arrive: a loopback proxy in front of a
 * real Ceph RGW timestamps every request body chunk it receives. Two uploads in one process share one
 * 4 MiB/s bucket (60 MiB each, 30 s together); one part is reset mid-body and sent again, and the stall
 * guard's deadline is tight enough that a part waiting its turn at the bucket would otherwise be
 * called stalled. Over 100 ms windows, first and last second left out, the bytes stay within ±25% of
 * 409.6 KiB in every window this process ran through (see loopStalls). Before pacing, a part was charged whole: 8 MiB in a burst, then seconds of silence.
 */
const LIMIT = 4 * MiB;
const EACH = 60 * MiB;
const WINDOW_MS = 100;

let work: Awaited<ReturnType<typeof tempDir>>;
let s3: Awaited<ReturnType<typeof s3Store>>;
let proxy: FaultProxy;

before(async () => {
  work = await tempDir('vmxfer-pacing-');
  s3 = await s3Store('pacing');
  proxy = await startFaultProxy(s3.env.endpoint);
});
after(async () => {
  await proxy?.close();
  await s3?.close();
  await work?.cleanup();
});

/** A sparse file of `bytes` zeros: nothing on disk, all of it on the wire. */
async function sparseSource(name: string, bytes: number): Promise<string> {
  const path = join(work.dir, name);
  const f = await open(path, 'w');
  await f.truncate(bytes);
  await f.close();
  return path;
}

/** An event-loop gap this long means this process (sender and receiver both) was not running. */
const STALL_MS = 25;

/**
 * Records the spells in which this process did not run (a 5 ms timer late by over STALL_MS): on a
 * loaded machine the sender and the proxy's timestamps stop together, and a window spanning such a
 * spell measures the scheduler, not the pacing, so it is left out and counted.
 */
function loopStalls(): { stalls: Array<[number, number]>; stop: () => void } {
  const stalls: Array<[number, number]> = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > STALL_MS) stalls.push([last, now]);
    last = now;
  }, 5);
  return { stalls, stop: () => clearInterval(timer) };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function describe(w: number[], target: number): string {
  const sorted = [...w].sort((a, b) => a - b);
  const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! / KiB;
  const mean = w.reduce((a, b) => a + b, 0) / w.length / KiB;
  const outside = w.filter((b) => Math.abs(b - target) > 0.25 * target).length;
  return `mean ${mean.toFixed(1)} KiB (limit ${(target / KiB).toFixed(1)}), min ${pct(0).toFixed(1)}, p5 ${pct(0.05).toFixed(1)}, p95 ${pct(0.95).toFixed(1)}, max ${pct(1).toFixed(1)}, ${outside} outside ±25%`;
}

/** Bytes per window between `from` and `to` (performance.now() times), from the proxy's arrival log. */
function windows(received: Array<{ t: number; bytes: number }>, from: number, to: number): number[] {
  const out = new Array<number>(Math.floor((to - from) / WINDOW_MS)).fill(0);
  for (const r of received) {
    const i = Math.floor((r.t - from) / WINDOW_MS);
    if (i >= 0 && i < out.length) out[i]! += r.bytes;
  }
  return out;
}

test('--bwlimit 4 MiB/s shared by two uploads, a reset part and a tight stall guard: bytes per 100 ms at the receiving end within ±25% of the limit', async () => {
  const bucket = new TokenBucket(LIMIT);
  const retries: string[] = [];
  const s3Sink = new S3Sink({ bucket: s3.bucket.name, endpoint: proxy.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.env.accessKeyId, secretAccessKey: s3.env.secretAccessKey } });
  // 6 parts of 8 MiB in flight share 4 MiB/s: each takes ~12 s, over its 2 s + 8 MiB at 1 MiB/s = 10 s deadline.
  const guarded = stallGuardedSink(s3Sink, { idleMs: 2000, floorBytesPerSecond: MiB }, new StallState());
  const sink = retryingSink(guarded, { ...FAST_RETRY, onRetry: (reason) => retries.push(reason) });
  let resetDone = false;
  proxy.setPlan(({ method, partNumber }) => {
    if (method !== 'PUT' || partNumber !== 2 || resetDone) return undefined;
    resetDone = true;
    return { kind: 'reset' };
  });
  const upload = async (name: string) =>
    uploadImage({
      source: await sparseSource(`${name}.raw`, EACH), destination: s3.url(name), key: name, sink, as: 'original', partSize: 8 * MiB, concurrency: 3, resume: false,
      bandwidth: bucket, checkpoints: new FileCheckpointStore<UploadCheckpoint>(join(work.dir, `cp-${name}`), isUploadCheckpoint),
    });
  try {
    const probe = loopStalls();
    const t0 = performance.now();
    const results = await Promise.all([upload('a'), upload('b')]).finally(() => probe.stop());
    const seconds = (performance.now() - t0) / 1000;
    for (const r of results) assert.equal(r.verified, 'etag');
    assert.ok(resetDone && proxy.log.some((e) => e.fault === 'reset'), 'one part was reset mid-body');
    assert.ok(retries.length >= 1, 'the reset part was sent again');
    assert.ok(!retries.includes(STORE.STALLED.code), `waiting for the bucket is not a stall: retries ${retries.join(', ')}`);

    const body = proxy.received.filter((r) => r.bytes > 0);
    const from = body[0]!.t + 1000;
    const all = windows(body, from, body.at(-1)!.t - 1000);
    const stalled = new Set(probe.stalls.flatMap(([a, b]) => range(Math.floor((a - from) / WINDOW_MS), Math.floor((b - from) / WINDOW_MS))));
    const measurable = all.filter((_, i) => !stalled.has(i));
    const target = (LIMIT * WINDOW_MS) / 1000;
    const stats = `${seconds.toFixed(1)} s; all ${all.length} windows: ${describe(all, target)}; the ${measurable.length} without a stall of this process: ${describe(measurable, target)}`;
    console.log(`pacing: ${stats}`);
    const sent = all.reduce((a, b) => a + b, 0);
    assert.ok(sent / all.length <= 1.02 * target, `the long-run rate does not exceed the limit: ${stats}`);
    assert.ok(measurable.length >= 50, `too few windows free of scheduling stalls to measure (${probe.stalls.length} stalls over ${STALL_MS} ms): ${stats}`);
    assert.deepEqual(measurable.filter((b) => Math.abs(b - target) > 0.25 * target), [], `every measurable window within ±25% of the limit: ${stats}`);
  } finally {
    proxy.setPlan(undefined);
    for (const k of ['a', 'b']) await s3.sink().deleteObject(k).catch(() => undefined);
    s3Sink.client.destroy();
  }
});
