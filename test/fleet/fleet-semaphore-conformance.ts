import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVmxferError } from '../../agent/core/errors.js';
import type { FleetSemaphore, SemaphoreLease } from '../../agent/fleet/fleet-semaphore.js';

/** One hold as its holder saw it: wall-clock ms after acquire returned and before release was called. */
export interface Hold {
  start: number;
  end: number;
}

/** What the suite needs of an implementation; what it cannot do is absent, and the test says why it skips. */
export interface SemaphoreUnderTest {
  name: string;
  /** A semaphore on the implementation's backing, with the given lease (a second agent's, where it is shared). */
  open(leaseMs: number): Promise<FleetSemaphore>;
  /**
   * `acquirers` loops of acquire, hold about `holdMs`, release, `rounds` times each, spread over
   * `processes` separate processes; every hold they made. Absent: the suite runs them in this process.
   */
  inProcesses?: ((p: { key: string; limit: number; processes: number; acquirers: number; rounds: number; holdMs: number }) => Promise<Hold[]>) | undefined;
  /** A separate process that takes one slot of `key` and is killed with SIGKILL once `kill` is called. */
  deadHolder?: ((key: string, limit: number, leaseMs: number) => Promise<{ kill(): void }>) | undefined;
}

/** The most holds that overlap at any instant. */
export function maxOverlap(holds: readonly Hold[]): number {
  const edges = holds.flatMap((h) => [[h.start, 1] as const, [h.end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (now += d));
  return max;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;
const freshKey = (label: string) => `conformance:${label}:${process.pid}:${n++}`;

async function cycleHere(sem: FleetSemaphore, key: string, limit: number, acquirers: number, rounds: number, holdMs: number): Promise<Hold[]> {
  const holds: Hold[] = [];
  await Promise.all(Array.from({ length: acquirers }, async (_, i) => {
    for (let r = 0; r < rounds; r++) {
      const lease = await sem.acquire(key, limit, `acquirer-${i}`);
      const start = Date.now();
      await sleep(holdMs * (0.5 + Math.random()));
      holds.push({ start, end: Date.now() });
      await lease.release();
    }
  }));
  return holds;
}

/** The FleetSemaphore contract: every implementation runs it (test/fleet/fleet-semaphore-*.test.ts). */
export function semaphoreConformance(impl: SemaphoreUnderTest): void {
  const t = (name: string, fn: () => Promise<void>, skip?: string | false) => test(`${impl.name} semaphore: ${name}`, { skip: skip || false }, fn);

  t('20 concurrent acquirers never hold more than the limit, and the limit is used', async () => {
    const key = freshKey('cap');
    const limit = 3;
    const p = { key, limit, processes: 3, acquirers: 20, rounds: 3, holdMs: 40 };
    let holds: Hold[];
    if (impl.inProcesses) holds = await impl.inProcesses(p);
    else {
      const sem = await impl.open(5000);
      try {
        holds = await cycleHere(sem, key, limit, p.acquirers, p.rounds, p.holdMs);
      } finally {
        await sem.close();
      }
    }
    assert.equal(holds.length, p.acquirers * p.rounds, 'every acquirer held its slot every round');
    const max = maxOverlap(holds);
    assert.ok(max <= limit, `at most ${limit} at once, saw ${max}`);
    assert.equal(max, limit, 'the cap is used, not serialised to fewer');
  });

  t('release hands the slot to a waiter at once (a wake-up, not a poll)', async () => {
    const sem = await impl.open(5000);
    const other = await impl.open(5000);
    try {
      const key = freshKey('wake');
      const held = await sem.acquire(key, 1, 'first');
      let waited = false;
      const next = other.acquire(key, 1, 'second', undefined, { onWaiting: () => (waited = true) });
      await sleep(200);
      assert.ok(waited, 'the second acquirer said it waits');
      const t0 = performance.now();
      await held.release();
      const lease = await next;
      const ms = performance.now() - t0;
      assert.ok(ms < 300, `woken ${ms.toFixed(0)} ms after the release`);
      assert.deepEqual(await sem.holders(key), ['second']);
      await lease.release();
      assert.deepEqual(await sem.holders(key), []);
    } finally {
      await sem.close();
      await other.close();
    }
  });

  t('abort while waiting rejects with VMX_ABORTED and leaves no slot taken', async () => {
    const sem = await impl.open(5000);
    try {
      const key = freshKey('abort');
      const held = await sem.acquire(key, 1, 'holder');
      const ac = new AbortController();
      const waiting = sem.acquire(key, 1, 'waiter', ac.signal);
      await sleep(50);
      ac.abort();
      const err = await waiting.then(() => undefined, (e: unknown) => e);
      assert.ok(isVmxferError(err) && err.code === 'VMX_ABORTED', String(err));
      await held.release();
      assert.deepEqual(await sem.holders(key), [], 'the aborted waiter took nothing');
      const again = await sem.acquire(key, 1, 'after');
      await again.release();
      await assert.rejects(sem.acquire(key, 1, 'pre-aborted', AbortSignal.abort()), (e) => isVmxferError(e) && e.code === 'VMX_ABORTED');
    } finally {
      await sem.close();
    }
  });

  t('a lease renews itself past its lease time while held', async () => {
    const sem = await impl.open(300);
    const other = await impl.open(300);
    try {
      const key = freshKey('renew');
      const held: SemaphoreLease = await sem.acquire(key, 1, 'long');
      const ac = new AbortController();
      const rival = other.acquire(key, 1, 'rival', ac.signal);
      await sleep(1000);
      assert.deepEqual(await other.holders(key), ['long'], 'still held after three lease times');
      assert.equal(held.lost.aborted, false);
      ac.abort();
      await rival.catch(() => undefined);
      await held.release();
    } finally {
      await sem.close();
      await other.close();
    }
  });

  t(
    "a dead holder's slot frees when its lease expires",
    async () => {
      const leaseMs = 1500;
      const key = freshKey('dead');
      const holder = await impl.deadHolder!(key, 1, leaseMs);
      const sem = await impl.open(leaseMs);
      try {
        holder.kill();
        const t0 = performance.now();
        const lease = await sem.acquire(key, 1, 'survivor', AbortSignal.timeout(10_000));
        const ms = performance.now() - t0;
        assert.ok(ms <= leaseMs + 700, `free ${ms.toFixed(0)} ms after the kill (lease ${leaseMs} ms)`);
        await lease.release();
      } finally {
        await sem.close();
      }
    },
    !impl.deadHolder && 'holders live in the semaphore\'s own process (shared: false): a holder cannot die without it',
  );
}
