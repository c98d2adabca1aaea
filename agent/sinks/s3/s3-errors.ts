import { abortedError } from '../../core/abort.js';
import { isVmxferError, vmxError, type ErrorCodeDef, type VmxferError } from '../../core/errors.js';
import { STORE } from '../error-codes.js';

/**
 * S3 error codes ("Amazon S3 API Reference, Error responses: List of error codes") mapped onto
 * the store-neutral STORE codes. Codes not listed are permanent REQUEST_REJECTED unless the HTTP
 * status says the server failed (5xx), which is transient.
 */
const PERMANENT: Readonly<Record<string, ErrorCodeDef>> = {
  AccessDenied: STORE.ACCESS_DENIED,
  AllAccessDisabled: STORE.ACCESS_DENIED,
  Forbidden: STORE.ACCESS_DENIED,
  InvalidAccessKeyId: STORE.INVALID_ACCESS_KEY,
  SignatureDoesNotMatch: STORE.SIGNATURE_MISMATCH,
  NoSuchBucket: STORE.NO_SUCH_BUCKET,
  NoSuchKey: STORE.NO_SUCH_KEY,
  NotFound: STORE.NO_SUCH_KEY,
  NoSuchUpload: STORE.NO_SUCH_UPLOAD,
  EntityTooSmall: STORE.ENTITY_TOO_SMALL,
  InvalidPart: STORE.INVALID_PART,
  InvalidPartOrder: STORE.INVALID_PART_ORDER,
  BadDigest: STORE.BAD_DIGEST,
  InvalidDigest: STORE.BAD_DIGEST,
  // The body's SHA-256 differs from the signed x-amz-content-sha256: altered in transit like BadDigest.
  XAmzContentSHA256Mismatch: STORE.BAD_DIGEST,
  InvalidRange: STORE.BAD_RANGE,
};

const TRANSIENT: Readonly<Record<string, ErrorCodeDef>> = {
  SlowDown: STORE.SERVER_BUSY,
  ServiceUnavailable: STORE.SERVER_BUSY,
  Throttling: STORE.SERVER_BUSY,
  ThrottlingException: STORE.SERVER_BUSY,
  TooManyRequests: STORE.SERVER_BUSY,
  RequestTimeout: STORE.SERVER_ERROR,
  InternalError: STORE.SERVER_ERROR,
};

/** Socket-level failures worth retrying (Node's errno codes and the SDK's own timeout names). */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'TimeoutError', 'RequestTimeoutError']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** Turns whatever the SDK threw into a typed VmxferError naming the operation, the object and the store's code. */
export function s3Error(err: unknown, op: string, where: string, signal?: AbortSignal): VmxferError {
  if (isVmxferError(err)) return err;
  if (signal?.aborted) return abortedError(signal);
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const storeCode = e.Code ?? e.name ?? 'Error';
  const netCode = networkCode(e);
  if (status === undefined && netCode) {
    return vmxError(STORE.NETWORK, `S3 ${op} failed to reach the store (${netCode}): ${e.message ?? ''}`.trim(), { file: where, cause: err, retryable: true });
  }
  if (status === undefined && (storeCode === 'AbortError' || e.name === 'AbortError')) return abortedError(signal);
  if (status === undefined) return configOrUnknown(e, op, where, err);
  const text = `S3 ${op} answered ${storeCode} (HTTP ${status})${e.message && e.message !== storeCode ? `: ${e.message}` : ''}`;
  const transient = TRANSIENT[storeCode] ?? (status === 503 || status === 429 ? STORE.SERVER_BUSY : status >= 500 ? STORE.SERVER_ERROR : undefined);
  if (transient) return vmxError(transient, text, { file: where, cause: err, retryable: true });
  const permanent = PERMANENT[storeCode] ?? (status === 403 ? STORE.ACCESS_DENIED : STORE.REQUEST_REJECTED);
  return vmxError(permanent, text, { file: where, cause: err, retryable: false });
}

function networkCode(e: SdkErrorShape): string | undefined {
  for (let cur: SdkErrorShape | undefined = e, depth = 0; cur && depth < 4; cur = cur.cause as SdkErrorShape | undefined, depth++) {
    const code = cur.code ?? cur.name;
    if (code && NETWORK.has(code)) return code;
    if (cur.message && /socket hang up/i.test(cur.message)) return 'ECONNRESET';
  }
  return undefined;
}

/** Failures before any request left: missing region or credentials, a bad endpoint. */
function configOrUnknown(e: SdkErrorShape, op: string, where: string, err: unknown): VmxferError {
  const msg = e.message ?? String(err);
  if (/region|credential|endpoint|ENOTFOUND|Invalid URL/i.test(msg) || e.name === 'CredentialsProviderError' || e.code === 'ENOTFOUND') {
    return vmxError(STORE.CONFIG, `S3 ${op} could not be sent: ${msg}`, { file: where, cause: err });
  }
  return vmxError(STORE.REQUEST_REJECTED, `S3 ${op} failed: ${e.name ?? 'Error'}: ${msg}`, { file: where, cause: err });
}
