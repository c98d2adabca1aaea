import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../agent/sinks/token-bucket.js';
import { isVmxferError } from '../../agent/core/errors.js';

const MiB = 1024 * 1024;
const aborted = (e: unknown) => isVmxferError(e) && e.code === 'VMX_ABORTED';

async function elapsed(p: Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await p;
  return (performance.now() - t0) / 1000;
}

test('token bucket: a caller aborted while it waits leaves at once and its bytes are refunded to the next caller', async () => {
  const bucket = new TokenBucket(4 * MiB);
  await bucket.take(4 * MiB); // the burst is spent
  const ac = new AbortController();
  const cancelled = bucket.take(40 * MiB, ac.signal); // would wait 10 s
  const next = bucket.take(2 * MiB); // queued behind it
  setTimeout(() => ac.abort(), 100);
  const t0 = performance.now();
  await assert.rejects(cancelled, aborted);
  const left = (performance.now() - t0) / 1000;
  assert.ok(left < 3, `the aborted caller left after ${left.toFixed(2)} s, not after its 10 s wait`);
  const s = await elapsed(next);
  // 2 MiB at 4 MiB/s after about 0.1 s of refill: ~0.4 s. Charged for the cancelled 40 MiB it would be ~10 s.
  assert.ok(s < 4, `the next caller waited ${s.toFixed(2)} s, as if the cancelled bytes were still charged`);
});

test('token bucket: a caller aborted while queued behind a long wait rejects without waiting its turn', async () => {
  const bucket = new TokenBucket(4 * MiB);
  await bucket.take(4 * MiB);
  const stopFirst = new AbortController();
  const first = bucket.take(40 * MiB, stopFirst.signal); // 10 s, aborted only at the end of the test
  const ac = new AbortController();
  const queued = bucket.take(MiB, ac.signal);
  setTimeout(() => ac.abort(), 100);
  const s = await elapsed(assert.rejects(queued, aborted));
  assert.ok(s < 3, `the queued caller left after ${s.toFixed(2)} s, not when the first caller's 10 s wait ended`);
  stopFirst.abort();
  await assert.rejects(first, aborted);
});

test('token bucket: an already aborted signal rejects before anything is charged', async () => {
  const bucket = new TokenBucket(MiB);
  await assert.rejects(bucket.take(MiB, AbortSignal.abort()), aborted);
  // 0.5 MiB at 1 MiB/s past the burst: ~0.5 s; with the aborted MiB charged, ~1.5 s.
  const s = await elapsed(bucket.take(bucket.burstBytes + MiB / 2));
  assert.ok(s < 1.1, `took ${s.toFixed(2)} s`);
});

test('token bucket: the burst after an idle spell is one slice, not a second of the rate', async () => {
  const bucket = new TokenBucket(4 * MiB);
  assert.equal(bucket.sliceBytes, 64 * 1024);
  await new Promise((r) => setTimeout(r, 300)); // idle: a one-second burst would now hold 4 MiB
  const s = await elapsed(bucket.take(MiB));
  assert.ok(s >= 0.2, `1 MiB after idling took ${s.toFixed(2)} s; at 4 MiB/s less the 64 KiB burst it takes ~0.23 s`);
});

test('token bucket: the oldest pacer is served first, and a waiter passed over for 500 ms is served anyway', async () => {
  const bucket = new TokenBucket(MiB); // 16 KiB slices, ~16 ms each
  const older = bucket.pacer();
  const newer = bucket.pacer();
  await bucket.take(bucket.burstBytes);
  const order: string[] = [];
  const t0 = performance.now();
  const draw = async (name: string, pacer: typeof older, slices: number) => {
    for (let i = 0; i < slices; i++) {
      await pacer.take(pacer.sliceBytes);
      order.push(name);
    }
  };
  let newerFirstAt = 0;
  const newerDone = (async () => {
    await newer.take(newer.sliceBytes);
    newerFirstAt = performance.now() - t0;
  })();
  await Promise.all([draw('older', older, 60), newerDone]); // ~1 s of the older pacer's slices
  assert.equal(order[0], 'older', 'the older pacer went first though the newer one asked at the same time');
  assert.ok(newerFirstAt >= 450 && newerFirstAt < 900, `the newer pacer waited ${newerFirstAt.toFixed(0)} ms: passed over for ~500 ms, then served`);
});
