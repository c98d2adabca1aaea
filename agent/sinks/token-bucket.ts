import { abortedError } from '../core/abort.js';
import { KiB } from '../core/units.js';
import type { BodyPacer } from './object-sink.js';

/** Slices of about 1/64 s of the rate, between 1 and 64 KiB: small enough that 100 ms holds several. */
function sliceFor(bytesPerSecond: number): number {
  return Math.max(KiB, Math.min(64 * KiB, Math.floor(bytesPerSecond / 64)));
}

/** The longest a waiter is passed over for an older one before it is served anyway. */
export const MAX_PASSED_OVER_MS = 500;

interface Waiter {
  bytes: number;
  /** Lower is served first: the order in which the pacers (part requests) were made. */
  rank: number;
  since: number;
  signal: AbortSignal | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
  onAbort: () => void;
}

/**
 * A token bucket in bytes per second, shared by every part of every transfer in the process
 * (`--bwlimit`). Part bodies draw through it a slice at a time (`pacer()`). The burst is one slice or
 * 25 ms of the rate, whichever is larger, so after an idle spell 100 ms carry little extra, and the
 * long-run rate never exceeds the limit.
 *
 * The oldest pacer is served first, and a waiter passed over for MAX_PASSED_OVER_MS is served anyway:
 * parts finish one after another instead of all together, so while one part waits for its answer the
 * others keep the line busy (served round robin, parts started together would all fall silent at once),
 * and no request sits idle long enough for a store's idle timeout.
 */
export class TokenBucket implements BodyPacer {
  readonly sliceBytes: number;
  readonly burstBytes: number;
  private tokens: number;
  private last = performance.now();
  private nextRank = 0;
  private readonly waiting: Waiter[] = [];
  /** The waiter whose bytes are charged and whose debt is being paid off; nobody else is served meanwhile. */
  private serving: { waiter: Waiter; timer: NodeJS.Timeout } | undefined;
  /** A waiter is being served, or the next pick is due on the next turn of the event loop. */
  private busy = false;

  constructor(readonly bytesPerSecond: number) {
    this.sliceBytes = sliceFor(bytesPerSecond);
    this.burstBytes = this.sliceBytes;
    this.tokens = this.burstBytes;
  }

  /** A pacer for one part request (all its attempts), ranked by when it was made. */
  pacer(): BodyPacer {
    const rank = this.nextRank++;
    return { sliceBytes: this.sliceBytes, take: (bytes, signal) => this.takeRanked(bytes, rank, signal) };
  }

  /**
   * Waits until `n` bytes may be sent, ranked as a newcomer. An aborted caller leaves the line at once
   * and its bytes are not charged, so a cancelled job does not slow the jobs still running.
   */
  take(n: number, signal?: AbortSignal): Promise<void> {
    return this.takeRanked(n, this.nextRank++, signal);
  }

  private takeRanked(bytes: number, rank: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, rank, since: performance.now(), signal, resolve, reject, onAbort: () => this.leave(waiter) };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
      this.serve();
    });
  }

  /**
   * Charges the next waiter and resolves it once its debt is paid. The next one is picked a turn of
   * the event loop later: the stream just served asks for its next slice on the way (microtasks), and
   * an older pacer must be in line again when the choice is made.
   */
  private serve(): void {
    if (this.busy || this.waiting.length === 0) return;
    const waiter = this.next();
    this.waiting.splice(this.waiting.indexOf(waiter), 1);
    this.refill();
    this.tokens -= waiter.bytes;
    this.busy = true;
    const paid = () => {
      this.serving = undefined;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
      setImmediate(() => {
        this.busy = false;
        this.serve();
      });
    };
    if (this.tokens >= 0) paid();
    else this.serving = { waiter, timer: setTimeout(paid, (-this.tokens / this.bytesPerSecond) * 1000) };
  }

  /** The longest-passed-over waiter once it has waited MAX_PASSED_OVER_MS, else the oldest pacer's. */
  private next(): Waiter {
    const now = performance.now();
    let pick = this.waiting[0]!;
    let overdue: Waiter | undefined;
    for (const w of this.waiting) {
      if (now - w.since >= MAX_PASSED_OVER_MS && (!overdue || w.since < overdue.since)) overdue = w;
      if (w.rank < pick.rank) pick = w;
    }
    return overdue ?? pick;
  }

  /** An aborted waiter: out of the line, or, if it was being served, its charge refunded. */
  private leave(waiter: Waiter): void {
    if (this.serving?.waiter === waiter) {
      clearTimeout(this.serving.timer);
      this.serving = undefined;
      this.busy = false;
      this.tokens += waiter.bytes;
    } else {
      const i = this.waiting.indexOf(waiter);
      if (i < 0) return;
      this.waiting.splice(i, 1);
    }
    waiter.reject(abortedError(waiter.signal));
    this.serve();
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
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
