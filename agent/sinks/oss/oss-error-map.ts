import { abortedError } from '../../core/abort.js';
import { isVmxferError, vmxError, type ErrorCodeDef, type VmxferError } from '../../core/errors.js';
import { OSS } from './error-codes.js';
import type { OssCallContext } from './oss-http-client.js';

/**
 * Turns what ali-oss throws into typed VmxferErrors. OSS error codes and statuses follow the OSS
 * API reference "Error responses" / "OSS error codes": the permanent ones below mean the request
 * itself is wrong and retrying cannot help; 5xx, throttling and transport failures may pass.
 */

const PERMANENT: Record<string, ErrorCodeDef> = {
  AccessDenied: OSS.ACCESS_DENIED,
  InvalidAccessKeyId: OSS.INVALID_ACCESS_KEY_ID,
  SignatureDoesNotMatch: OSS.SIGNATURE_MISMATCH,
  NoSuchBucket: OSS.NO_SUCH_BUCKET,
  NoSuchKey: OSS.NO_SUCH_KEY,
  NoSuchUpload: OSS.NO_SUCH_UPLOAD,
  InvalidDigest: OSS.INVALID_DIGEST,
  InvalidPart: OSS.INVALID_PART,
  InvalidPartOrder: OSS.INVALID_PART_ORDER,
  EntityTooSmall: OSS.ENTITY_TOO_SMALL,
  InvalidRange: OSS.BAD_REQUEST,
};

/** Store codes that signal overload or a passing fault even when the status is not 5xx. */
const TRANSIENT_CODES = new Set(['ServerBusy', 'RequestTimeout', 'Throttling', 'SlowDown', 'TooManyRequests', 'InternalError', 'ServiceUnavailable']);

/** Names ali-oss / the transport give failures below HTTP. */
const TRANSPORT_NAMES = new Set(['ResponseTimeoutError', 'ConnectionTimeoutError', 'RequestError', 'ResponseError', 'RequestAbortedError']);

interface AliOssError {
  status?: number;
  code?: string;
  name?: string;
  message?: string;
  requestId?: string;
}

export interface OssCallSite {
  /** OSS API operation, e.g. "UploadPart". */
  operation: string;
  /** `oss://bucket/key`. */
  target: string;
}

function transportError(ctx: OssCallContext, site: OssCallSite, err: unknown): VmxferError {
  const f = ctx.failure!;
  const code = f.kind === 'too-large' ? OSS.BAD_RESPONSE : OSS.TRANSIENT;
  return vmxError(code, `OSS ${site.operation} failed before an HTTP answer (${f.kind}): ${f.message}`, {
    file: site.target,
    cause: f.cause ?? err,
    retryable: f.kind !== 'too-large',
  });
}

/**
 * A HEAD answer has no body, so OSS sends its error document base64-encoded in `x-oss-err`. ali-oss
 * reports every bodiless 404 as NoSuchKey without reading it, which would turn a missing bucket
 * into "no such object": the header's own Code wins.
 */
function headErrorCode(ctx: OssCallContext): { code: string; message: string | undefined } | undefined {
  const raw = ctx.responseHeaders?.['x-oss-err'];
  if (typeof raw !== 'string' || raw.length > 8192) return undefined;
  const xml = Buffer.from(raw, 'base64').toString('utf8');
  const code = /<Code>([A-Za-z]{1,64})<\/Code>/.exec(xml)?.[1];
  return code ? { code, message: /<Message>([^<]{0,500})<\/Message>/.exec(xml)?.[1] } : undefined;
}

export function mapOssError(err: unknown, ctx: OssCallContext, site: OssCallSite): VmxferError {
  if (ctx.signal?.aborted) return abortedError(ctx.signal);
  if (isVmxferError(err)) return err;
  if (ctx.failure) return transportError(ctx, site, err);
  const src = (err ?? {}) as AliOssError;
  const e: AliOssError = { status: src.status, code: src.code, name: src.name, message: src.message, requestId: src.requestId };
  const fromHeader = headErrorCode(ctx);
  if (fromHeader) {
    e.code = fromHeader.code;
    e.message = fromHeader.message ?? e.message;
  }
  const status = typeof e.status === 'number' ? e.status : undefined;
  const storeCode = e.code ?? e.name ?? 'unknown';
  const detail = `${storeCode} (HTTP ${status ?? 'none'}${e.requestId ? `, request ${e.requestId}` : ''}): ${e.message ?? String(err)}`;
  const permanent = e.code ? PERMANENT[e.code] : undefined;
  // A digest mismatch means the bytes changed in transit; the local part is intact, so re-sending it
  // (bounded by the retry policy) is the recovery. Every other listed code is permanent.
  const retryable = permanent === OSS.INVALID_DIGEST;
  if (permanent) return vmxError(permanent, `OSS ${site.operation} refused: ${detail}`, { file: site.target, cause: err, retryable });
  const transient =
    (status !== undefined && (status >= 500 || status === 429 || status < 0)) ||
    TRANSIENT_CODES.has(storeCode) ||
    TRANSPORT_NAMES.has(e.name ?? '');
  if (transient) return vmxError(OSS.TRANSIENT, `OSS ${site.operation} failed, may succeed on retry: ${detail}`, { file: site.target, cause: err, retryable: true });
  if (status !== undefined && status >= 400) return vmxError(OSS.REJECTED, `OSS ${site.operation} rejected: ${detail}`, { file: site.target, cause: err });
  return vmxError(OSS.BAD_RESPONSE, `OSS ${site.operation} gave an unusable answer: ${detail}`, { file: site.target, cause: err });
}
