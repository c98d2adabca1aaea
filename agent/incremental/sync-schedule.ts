import { setTimeout as sleep } from 'node:timers/promises';

export interface SyncSchedule {
  /** Start a pass this long after the previous one started (a pass that overruns is followed at once). */
  everyMs?: number | undefined;
  /** Stop after this many passes (absent: one pass without everyMs, until interrupted with it). */
  passes?: number | undefined;
  signal: AbortSignal;
  /** Told how long until the next pass, before waiting. */
  onWait?: ((ms: number, next: number) => void) | undefined;
}

/**
 * Runs incremental passes on a schedule: each pass is a whole upload (checkpointed, verified), so an
 * interrupt between passes loses nothing and one during a pass resumes with --resume.
 * Returns how many passes ran.
 */
export async function runSyncPasses(pass: (n: number) => Promise<void>, s: SyncSchedule): Promise<number> {
  const limit = s.passes ?? (s.everyMs === undefined ? 1 : Infinity);
  let n = 0;
  while (n < limit) {
    const started = Date.now();
    n++;
    await pass(n);
    if (n >= limit || s.everyMs === undefined) break;
    const wait = Math.max(0, started + s.everyMs - Date.now());
    s.onWait?.(wait, n + 1);
    try {
      await sleep(wait, undefined, { signal: s.signal });
    } catch {
      break;
    }
  }
  return n;
}
