import { setTimeout as sleep } from 'node:timers/promises';
import { abortedError, throwIfAborted } from '../core/abort.js';
import { isVmxferError, vmxError } from '../core/errors.js';
import { CLOUD } from './error-codes.js';
import { cloudCodeOfError, isThrottleCode, toCloudError, transportFailureOf, httpStatusOf, type CloudName } from './cloud-error.js';
import type { CloudTaskCallbacks } from './task-events.js';

export interface CloudRetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per request: a connection that opens no answer within this is dropped and the call retried (SDK requestTimeout / Tea readTimeout). */
  requestTimeoutMs?: number | undefined;
  /** Called before each retry with the cloud's code, for logs and metrics. */
  onRetry?: ((code: string, attempt: number) => void) | undefined;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_CLOUD_RETRY: CloudRetryPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS };

/** What the retry log and the final error name: the cloud's code, else the HTTP status, else the transport failure. */
function failureName(err: unknown): string {
  const cause = isVmxferError(err) ? (err as { cause?: unknown }).cause : err;
  const status = httpStatusOf(cause);
  return cloudCodeOfError(err) ?? (status !== undefined ? `HTTP ${status}` : undefined) ?? transportFailureOf(cause) ?? (cause instanceof SyntaxError ? 'BadAnswer' : 'unknown');
}

/**
 * Calls one cloud API operation: SDK errors become typed CLOUD_API_ERROR; throttling, server faults
 * (5xx, InternalError, ServiceUnavailable) and transport failures (reset, refused, timed out) are
 * retried with exponential backoff and full jitter (AWS "Error retries and exponential backoff"; ECS
 * "Throttling" guidance). Out of attempts, a throttle is CLOUD_THROTTLED and any other transient
 * failure CLOUD_UNAVAILABLE; a permanent error is thrown at once with the cloud's code.
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
    if (!isVmxferError(err) || !err.retryable) throw err;
    const code = failureName(err);
    if (attempt >= policy.attempts) {
      if (isThrottleCode(code)) throw vmxError(CLOUD.THROTTLED, `${cloud} ${operation}: still ${code} after ${attempt} attempts; lower the request rate or raise the retry budget`, { cause: err });
      throw vmxError(CLOUD.UNAVAILABLE, `${cloud} ${operation}: still failing (${code}) after ${attempt} attempts: ${err.message}`, { cause: err });
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
