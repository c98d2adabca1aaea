import { throwIfAborted } from '../core/abort.js';
import type { RangeDigest } from './download-checkpoint.js';
import { fetchRange, type FetchedRange, type RangeSpec } from './range-fetch.js';
import { rangeCount } from './range-plan.js';

/**
 * The object as an ordered byte stream built from parallel ranged GETs: up to `window` ranges are
 * fetched ahead, and yielded strictly in order (memory: window × range size). Every range's digest
 * is kept for the final verification; ranges the consumer never reached (a reader that stops at
 * its end-of-stream marker) are fetched by `finishDigests` so the whole object is still verified.
 */
export class OrderedRanges {
  readonly digests: RangeDigest[] = [];
  private readonly count: number;
  private next = 0;

  constructor(
    private readonly spec: RangeSpec,
    private readonly window: number,
    private readonly signal?: AbortSignal | undefined,
    private readonly onRange?: ((bytes: number) => void) | undefined,
  ) {
    this.count = rangeCount(spec.size, spec.rangeSize);
  }

  async *chunks(): AsyncGenerator<Buffer> {
    const ahead: Array<Promise<FetchedRange>> = [];
    const inner = new AbortController();
    const signal = this.signal ? AbortSignal.any([this.signal, inner.signal]) : inner.signal;
    let launched = this.next;
    try {
      while (this.next < this.count) {
        throwIfAborted(this.signal);
        while (launched < this.count && ahead.length < this.window) {
          const p = fetchRange(this.spec, launched++, signal);
          p.catch(() => undefined); // awaited in order below; avoids an unhandled rejection meanwhile
          ahead.push(p);
        }
        const r = await ahead.shift()!;
        this.digests.push(r.digest);
        this.next++;
        this.onRange?.(r.data.length);
        yield r.data;
      }
    } finally {
      inner.abort();
      await Promise.allSettled(ahead);
    }
  }

  /**
   * Digests of the ranges the stream's consumer did not read, fetched one by one; `onData` sees
   * their bytes in order (the rest of a whole-object hash).
   */
  async finishDigests(onData?: (data: Buffer) => void): Promise<RangeDigest[]> {
    while (this.next < this.count) {
      throwIfAborted(this.signal);
      const r = await fetchRange(this.spec, this.next++, this.signal);
      this.digests.push(r.digest);
      onData?.(r.data);
    }
    return this.digests;
  }
}
