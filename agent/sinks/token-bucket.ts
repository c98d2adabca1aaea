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

  /** Waits until `n` bytes may be sent. Callers are served in order. */
  take(n: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(n, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(n: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= n;
    if (this.tokens >= 0) return;
    const ms = (-this.tokens / this.bytesPerSecond) * 1000;
    await sleep(ms, undefined, signal ? { signal } : {}).catch(() => {
      throw abortedError(signal);
    });
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}

let shared: TokenBucket | undefined;

/** The process-wide bucket; the first caller's rate wins until reset. */
export function sharedTokenBucket(bytesPerSecond: number | undefined): TokenBucket | undefined {
  if (!bytesPerSecond) return undefined;
  if (!shared || shared.bytesPerSecond !== bytesPerSecond) shared = new TokenBucket(bytesPerSecond);
  return shared;
}
