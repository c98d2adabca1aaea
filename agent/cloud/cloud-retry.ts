import { setTimeout as sleep } from 'node:timers/promises';
import { abortedError, throwIfAborted } from '../core/abort.js';
import { isVmxferError, vmxError } from '../core/errors.js';
import { CLOUD } from './error-codes.js';
import { cloudCodeOfError, toCloudError, type CloudName } from './cloud-error.js';
import type { CloudTaskCallbacks } from './task-events.js';

export interface CloudRetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Called before each retry with the cloud's code, for logs and metrics. */
  onRetry?: ((code: string, attempt: number) => void) | undefined;
}

export const DEFAULT_CLOUD_RETRY: CloudRetryPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000 };

const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'EAI_AGAIN']);

function retryable(err: unknown): boolean {
  if (isVmxferError(err)) return err.retryable;
  return CONNECTION_CODES.has((err as NodeJS.ErrnoException)?.code ?? '');
}

/**
 * Calls one cloud API operation: SDK errors become typed CLOUD_API_ERROR, throttling and connection
 * failures are retried with exponential backoff and full jitter (AWS "Error retries and exponential
 * backoff"; ECS "Throttling" guidance), and a throttle that outlasts every attempt is CLOUD_THROTTLED.
 */
export async function callCloud<T>(
  cloud: CloudName,
  operation: string,
  op: () => Promise<T>,
  policy: CloudRetryPolicy,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    let err: unknown;
    try {
      return await op();
    } catch (raw) {
      err = toCloudError(cloud, operation, raw);
    }
    if (signal?.aborted) throw abortedError(signal);
    if (!retryable(err)) throw err;
    const code = cloudCodeOfError(err) ?? (err as NodeJS.ErrnoException).code ?? 'unknown';
    if (attempt >= policy.attempts) {
      throw vmxError(CLOUD.THROTTLED, `${cloud} ${operation}: still ${code} after ${attempt} attempts; lower the request rate or raise the retry budget`, { cause: err });
    }
    policy.onRetry?.(code, attempt);
    const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    await sleep(Math.random() * cap, undefined, signal ? { signal } : {}).catch(() => {
      throw abortedError(signal);
    });
  }
}

/** The connection's retry policy with the job's retry callback attached. */
export function withOnRetry(policy: CloudRetryPolicy | undefined, callbacks: CloudTaskCallbacks): CloudRetryPolicy {
  return { ...(policy ?? DEFAULT_CLOUD_RETRY), onRetry: callbacks.onRetry ?? policy?.onRetry };
}
