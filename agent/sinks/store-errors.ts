import type { ErrorCodeDef } from '../core/errors.js';
import { STORE } from './error-codes.js';

/**
 * The one classification of store answers, shared by every sink: a store's error code (S3 "Error
 * responses", OSS "Error codes"; both families use the same names for the same conditions) to a
 * STORE code, and whether the retry decorator may try again. A digest mismatch is not retryable
 * here: the bytes were damaged in flight, and only the engine, which holds the part, may re-read
 * and resend it a bounded number of times (transfer/send-part.ts).
 */
const BY_STORE_CODE: Readonly<Record<string, ErrorCodeDef>> = {
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
  PreconditionFailed: STORE.PRECONDITION_FAILED,
  InvalidPart: STORE.INVALID_PART,
  InvalidPartOrder: STORE.INVALID_PART_ORDER,
  BadDigest: STORE.BAD_DIGEST,
  InvalidDigest: STORE.BAD_DIGEST,
  // The body's SHA-256 differs from the signed x-amz-content-sha256: altered in transit like BadDigest.
  XAmzContentSHA256Mismatch: STORE.BAD_DIGEST,
  InvalidRange: STORE.BAD_RANGE,
  NotImplemented: STORE.CONFIG,
  SlowDown: STORE.SERVER_BUSY,
  ServerBusy: STORE.SERVER_BUSY,
  ServiceUnavailable: STORE.SERVER_BUSY,
  Throttling: STORE.SERVER_BUSY,
  ThrottlingException: STORE.SERVER_BUSY,
  TooManyRequests: STORE.SERVER_BUSY,
  RequestTimeout: STORE.SERVER_ERROR,
  InternalError: STORE.SERVER_ERROR,
};

/** The only codes the retry decorator may retry: the store or the path to it failed for now. */
const RETRYABLE = new Set([STORE.SERVER_BUSY.code, STORE.SERVER_ERROR.code, STORE.NETWORK.code, STORE.STALLED.code]);

/** Socket-level failures worth retrying (Node's errno codes, undici's and the SDKs' timeout names). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET', 'TimeoutError', 'RequestTimeoutError']);

export interface StoreVerdict {
  def: ErrorCodeDef;
  retryable: boolean;
  /** A sentence naming the fix, for answers that mean the configuration is wrong. */
  fix?: string | undefined;
}

/** Classifies an HTTP answer by the store's error code, then by its status. */
export function classifyStoreAnswer(storeCode: string | undefined, status: number): StoreVerdict {
  const def =
    (storeCode ? BY_STORE_CODE[storeCode] : undefined) ??
    (status === 501 ? STORE.CONFIG : status === 503 || status === 429 ? STORE.SERVER_BUSY : status >= 500 ? STORE.SERVER_ERROR : status === 403 ? STORE.ACCESS_DENIED : status === 412 ? STORE.PRECONDITION_FAILED : STORE.REQUEST_REJECTED);
  const fix = def === STORE.CONFIG ? 'the endpoint does not implement this operation: check that the URL scheme (s3:// or oss://) and --endpoint name the right kind of store' : undefined;
  return { def, retryable: isRetryableStoreCode(def.code), fix };
}

export function isRetryableStoreCode(code: string): boolean {
  return RETRYABLE.has(code);
}

/** The errno-like code of a transport failure worth retrying, if `code` is one. */
export function isNetworkCode(code: string | undefined): boolean {
  return code !== undefined && NETWORK_CODES.has(code);
}

/**
 * A host name that does not resolve is a configuration mistake, not a network blip: most often a
 * virtual-host endpoint (bucket.host) whose bucket name has no DNS entry.
 */
export function unresolvableHostFix(host: string | undefined): string {
  const h = host ? `"${host}" ` : '';
  return `the store's host name ${h}does not resolve: check --endpoint, or use path-style addressing (--path-style) when the endpoint does not serve bucket names as host names`;
}
