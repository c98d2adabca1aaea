import { isVmxferError, vmxError, type VmxferError } from '../core/errors.js';
import { CLOUD } from './error-codes.js';

/** Which cloud answered: the message says so, and the throttling codes differ. */
export type CloudName = 'aws' | 'alibaba';

/**
 * Throttling codes: EC2 "RequestLimitExceeded" (EC2 API reference, Error codes; also "Throttling" from
 * IAM/S3's query protocol), ECS "Throttling" and its ".User"/".Api" variants (ECS API, Service error
 * codes). These are retried with backoff; every other documented code is permanent.
 */
const THROTTLE_CODES = /^(RequestLimitExceeded|Throttling(\..*)?|ThrottlingException|SlowDown|ServiceUnavailable)$/;

export function isThrottleCode(code: string): boolean {
  return THROTTLE_CODES.test(code);
}

/** The cloud's own error code of an SDK error: AWS SDK v3 `name`/`Code`, Tea (Alibaba) `code`. */
export function cloudCodeOf(err: unknown): string | undefined {
  const e = err as { Code?: unknown; code?: unknown; name?: unknown; $metadata?: unknown } | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.Code === 'string') return e.Code;
  if ('$metadata' in e && typeof e.name === 'string') return e.name;
  if (typeof e.code === 'string' && /^[A-Z]/.test(e.code)) return e.code;
  return undefined;
}

function requestIdOf(err: unknown): string | undefined {
  const e = err as { $metadata?: { requestId?: string }; data?: { RequestId?: string } };
  return e?.$metadata?.requestId ?? e?.data?.RequestId;
}

function plainMessage(err: unknown): string {
  const e = err as { data?: { Message?: string }; message?: string };
  return e?.data?.Message ?? e?.message ?? String(err);
}

/**
 * Turns whatever an SDK threw into a VmxferError naming the operation and the cloud's code, so the
 * caller sees e.g. "aws ImportImage: InvalidParameter: ... (request id ...)" with CLOUD_API_ERROR.
 * Throttling answers are marked retryable; connection failures pass through for the retry loop.
 */
export function toCloudError(cloud: CloudName, operation: string, err: unknown): unknown {
  if (isVmxferError(err)) return err;
  const code = cloudCodeOf(err);
  if (!code) return err;
  const rid = requestIdOf(err);
  const sentence = `${cloud} ${operation} failed: ${code}: ${plainMessage(err)}${rid ? ` (request id ${rid})` : ''}`;
  return vmxError(CLOUD.API_ERROR, sentence, { cause: err, retryable: isThrottleCode(code) });
}

/** The cloud code carried by a VmxferError built by toCloudError (for callers that branch on it). */
export function cloudCodeOfError(err: unknown): string | undefined {
  if (isVmxferError(err)) return cloudCodeOf((err as VmxferError & { cause?: unknown }).cause);
  return cloudCodeOf(err);
}
