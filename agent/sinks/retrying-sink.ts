import { setTimeout as sleep } from 'node:timers/promises';
import { abortedError, throwIfAborted } from '../core/abort.js';
import { isVmxferError, vmxError } from '../core/errors.js';
import { TRANSFER } from '../transfer/error-codes.js';
import { STORE } from './error-codes.js';
import { decorateSink } from './decorate-sink.js';
import type { ObjectSink } from './object-sink.js';
import { isNetworkCode } from './store-errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Called before each retry with a short reason (the error code), for metrics and logs. */
  onRetry?: ((reason: string, attempt: number, err: unknown) => void) | undefined;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 200, maxDelayMs: 20_000 };

/** True for errors worth another try: the store said so, or the connection failed. */
export function isRetryable(err: unknown): boolean {
  if (isVmxferError(err)) return err.retryable;
  return isNetworkCode((err as NodeJS.ErrnoException)?.code);
}

function reasonOf(err: unknown): string {
  return (isVmxferError(err) ? err.code : (err as NodeJS.ErrnoException)?.code) ?? 'unknown';
}

/** Runs `op` with exponential backoff and full jitter on retryable errors; permanent ones fail at once. */
export async function withRetry<T>(op: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await op();
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal);
      if (!isRetryable(err)) throw err;
      if (attempt >= policy.attempts && isVmxferError(err) && err.code === STORE.STALLED.code) {
        throw vmxError(STORE.STALLED, `gave up after ${attempt} attempts, each stalled: ${err.message}`, { cause: err });
      }
      if (attempt >= policy.attempts) {
        throw vmxError(TRANSFER.RETRIES_EXHAUSTED, `gave up after ${attempt} attempts: ${(err as Error).message}`, { cause: err });
      }
      policy.onRetry?.(reasonOf(err), attempt, err);
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * cap, undefined, signal ? { signal } : {}).catch(() => {
        throw abortedError(signal);
      });
    }
  }
}

/** Decorator: every operation of the sink retried under one policy (every operation is idempotent). */
export function retryingSink(inner: ObjectSink, policy: RetryPolicy = DEFAULT_RETRY): ObjectSink {
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>, signalIndex: number) =>
    (...args: A) =>
      withRetry(() => fn.apply(inner, args), policy, args[signalIndex] as AbortSignal | undefined);
  return decorateSink(inner, {
    createUpload: wrap(inner.createUpload, 2),
    uploadPart: wrap(inner.uploadPart, 4),
    ...(inner.copyPart ? { copyPart: wrap(inner.copyPart, 4) } : {}),
    listParts: wrap(inner.listParts, 2),
    completeUpload: wrap(inner.completeUpload, 3),
    abortUpload: wrap(inner.abortUpload, 2),
    listUploads: wrap(inner.listUploads, 1),
    head: wrap(inner.head, 1),
    getRange: wrap(inner.getRange, 3),
    deleteObject: wrap(inner.deleteObject, 1),
    getTags: wrap(inner.getTags, 1),
    putTags: wrap(inner.putTags, 2),
  });
}
