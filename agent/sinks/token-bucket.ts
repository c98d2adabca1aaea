import { setTimeout as sleep } from 'node:timers/promises';
import { abortedError } from '../core/abort.js';

/**
 * A token bucket in bytes per second, shared by every part of every transfer in the process
 * (`--bwlimit`). Burst is one second's worth, so the long-run rate never exceeds the limit.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond;
  }

  /**
   * Waits until `n` bytes may be sent. Callers are served in order; an aborted caller leaves the line at
   * once and its bytes are not charged, so a cancelled job does not slow the jobs still running.
   */
  take(n: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    const turn = this.queue.then(() => this.wait(n, signal));
    this.queue = turn.catch(() => undefined);
    return signal ? leaveOnAbort(turn, signal) : turn;
  }

  private async wait(n: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortedError(signal);
    this.refill();
    this.tokens -= n;
    if (this.tokens >= 0) return;
    const ms = (-this.tokens / this.bytesPerSecond) * 1000;
    await sleep(ms, undefined, signal ? { signal } : {}).catch(() => {
      this.tokens += n;
      throw abortedError(signal);
    });
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}

/** Settles with `turn`, or rejects as soon as `signal` aborts (the turn then ends without charging). */
function leaveOnAbort(turn: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

let shared: TokenBucket | undefined;

/** The process-wide bucket; the first caller's rate wins until reset. */
export function sharedTokenBucket(bytesPerSecond: number | undefined): TokenBucket | undefined {
  if (!bytesPerSecond) return undefined;
  if (!shared || shared.bytesPerSecond !== bytesPerSecond) shared = new TokenBucket(bytesPerSecond);
  return shared;
}
