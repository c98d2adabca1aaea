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
  const cancelled = bucket.take(8 * MiB, ac.signal); // would wait 2 s
  const next = bucket.take(2 * MiB); // queued behind it
  setTimeout(() => ac.abort(), 100);
  const t0 = performance.now();
  await assert.rejects(cancelled, aborted);
  assert.ok(performance.now() - t0 < 500, 'the aborted caller left within half a second');
  const s = await elapsed(next);
  // 2 MiB at 4 MiB/s after about 0.1 s of refill: ~0.4 s. Charged for the cancelled 8 MiB it would be ~2.4 s.
  assert.ok(s < 1.2, `the next caller waited ${s.toFixed(2)} s, as if the cancelled bytes were still charged`);
});

test('token bucket: a caller aborted while queued behind a long wait rejects without waiting its turn', async () => {
  const bucket = new TokenBucket(4 * MiB);
  await bucket.take(4 * MiB);
  const first = bucket.take(8 * MiB); // 2 s, no signal
  const ac = new AbortController();
  const queued = bucket.take(MiB, ac.signal);
  setTimeout(() => ac.abort(), 100);
  const s = await elapsed(assert.rejects(queued, aborted));
  assert.ok(s < 0.6, `the queued caller left after ${s.toFixed(2)} s, not when the first caller's 2 s wait ended`);
  await first;
});

test('token bucket: an already aborted signal rejects before anything is charged', async () => {
  const bucket = new TokenBucket(MiB);
  await assert.rejects(bucket.take(MiB, AbortSignal.abort()), aborted);
  const s = await elapsed(bucket.take(MiB)); // the full burst is still there
  assert.ok(s < 0.2, `took ${s.toFixed(2)} s`);
});
