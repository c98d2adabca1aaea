import { EventEmitter } from 'node:events';
import { isVmxferError, vmxError } from '../core/errors.js';
import { KiB } from '../core/units.js';
import { decorateSink } from './decorate-sink.js';
import { STORE } from './error-codes.js';
import type { BodyPacer, ObjectSink } from './object-sink.js';

export interface StallPolicy {
  /** A request on which no byte moved for this long is abandoned (each transport's idle timer). */
  idleMs: number;
  /** The slowest rate a part may move at: its whole deadline is idleMs plus its size at this rate. */
  floorBytesPerSecond: number;
}

export const DEFAULT_STALL: StallPolicy = { idleMs: 45_000, floorBytesPerSecond: 64 * KiB };

/** Whether a sink's requests are stalled now; 'change' fires on each transition. */
export class StallState extends EventEmitter<{ change: [boolean] }> {
  stalled = false;

  set(stalled: boolean): void {
    if (stalled === this.stalled) return;
    this.stalled = stalled;
    this.emit('change', stalled);
  }
}

/** The most a transfer of `bytes` may take: a slow but moving part is not a stalled one. */
export function transferDeadlineMs(policy: StallPolicy, bytes: number): number {
  return policy.idleMs + Math.ceil((bytes / policy.floorBytesPerSecond) * 1000);
}

/**
 * Decorator, placed inside the retry decorator so each attempt has its own deadline: a part sent or
 * a range read that outlives its size at the floor rate is cancelled as STORE_STALLED (retryable).
 * Every answer marks the sink moving again and every stall (this deadline, or a transport's idle
 * timer) marks it stalled, for progress to show.
 */
export function stallGuardedSink(inner: ObjectSink, policy: StallPolicy, state: StallState): ObjectSink {
  const watch = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        const r = await fn.apply(inner, args);
        state.set(false);
        return r;
      } catch (err) {
        if (isVmxferError(err) && err.code === STORE.STALLED.code) state.set(true);
        throw err;
      }
    };
  const timed = <R>(what: string, bytes: number, signal: AbortSignal | undefined, run: (signal: AbortSignal, deadline: Deadline) => Promise<R>): Promise<R> =>
    watch(async () => {
      const ms = transferDeadlineMs(policy, bytes);
      const deadline = new Deadline(ms);
      try {
        return await run(signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal, deadline);
      } catch (err) {
        if (!deadline.signal.aborted || signal?.aborted) throw err;
        const floor = `${Math.round(policy.floorBytesPerSecond / KiB)} KiB/s`;
        throw vmxError(STORE.STALLED, `${what} of ${bytes} bytes did not finish within ${ms} ms (the stall timeout plus its size at ${floor}), not counting ${Math.round(deadline.extendedMs)} ms waiting for --bwlimit`, { cause: err, retryable: true });
      } finally {
        deadline.clear();
      }
    })();
  const guarded = decorateSink(inner, {
    createUpload: watch(inner.createUpload),
    uploadPart: (key, uploadId, partNumber, body, signal, pacer) =>
      timed(`part ${partNumber}`, body.length, signal, (s, deadline) => inner.uploadPart(key, uploadId, partNumber, body, s, pacer && deadline.excluding(pacer))),
    ...(inner.copyPart ? { copyPart: watch(inner.copyPart) } : {}),
    listParts: watch(inner.listParts),
    completeUpload: watch(inner.completeUpload),
    abortUpload: watch(inner.abortUpload),
    listUploads: watch(inner.listUploads),
    head: watch(inner.head),
    getRange: (key, start, end, signal) => timed(`range [${start}, ${end})`, end - start, signal, (s) => inner.getRange(key, start, end, s)),
    deleteObject: watch(inner.deleteObject),
    getTags: watch(inner.getTags),
    putTags: watch(inner.putTags),
  });
  return { ...guarded, stalls: state };
}

/**
 * A part's deadline that time spent waiting for the bandwidth limit pushes out: a part held back by
 * `--bwlimit` is slow on purpose, not stalled (its socket's idle timer still sees each slice move).
 */
class Deadline {
  private readonly timer = new AbortController();
  private at: number;
  private handle: NodeJS.Timeout | undefined;
  extendedMs = 0;

  constructor(ms: number) {
    this.at = performance.now() + ms;
    this.arm();
  }

  get signal(): AbortSignal {
    return this.timer.signal;
  }

  /** The pacer, with each of its waits added to this deadline. */
  excluding(pacer: BodyPacer): BodyPacer {
    return {
      sliceBytes: pacer.sliceBytes,
      take: async (bytes, signal) => {
        const t0 = performance.now();
        try {
          await pacer.take(bytes, signal);
        } finally {
          const waited = performance.now() - t0;
          this.at += waited;
          this.extendedMs += waited;
        }
      },
    };
  }

  clear(): void {
    clearTimeout(this.handle);
  }

  private arm(): void {
    this.handle = setTimeout(() => {
      if (performance.now() >= this.at) this.timer.abort();
      else this.arm();
    }, Math.max(0, this.at - performance.now()));
  }
}
