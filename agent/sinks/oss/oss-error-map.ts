import { abortedError } from '../../core/abort.js';
import { isVmxferError, vmxError, type VmxferError } from '../../core/errors.js';
import { STORE } from '../error-codes.js';
import { classifyStoreAnswer, unresolvableHostFix } from '../store-errors.js';
import type { OssCallContext } from './oss-http-client.js';

/**
 * Turns what ali-oss throws into typed STORE errors through the classification every sink shares
 * (store-errors.ts); OSS's own error code stays in the message.
 */

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
  const opts = { file: site.target, cause: f.cause ?? err };
  const text = `OSS ${site.operation} failed before an HTTP answer (${f.kind}): ${f.message}`;
  switch (f.kind) {
    case 'too-large':
      return vmxError(STORE.BAD_RESPONSE, text, opts);
    case 'unresolved':
      return vmxError(STORE.CONFIG, `${text}; ${unresolvableHostFix(f.host)}`, opts);
    case 'timeout':
      return vmxError(STORE.STALLED, text, { ...opts, retryable: true });
    default:
      return vmxError(STORE.NETWORK, text, { ...opts, retryable: true });
  }
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
  if ((status !== undefined && status < 0) || TRANSPORT_NAMES.has(e.name ?? '')) {
    return vmxError(STORE.NETWORK, `OSS ${site.operation} failed, may succeed on retry: ${detail}`, { file: site.target, cause: err, retryable: true });
  }
  if (status === undefined || status < 400) return vmxError(STORE.BAD_RESPONSE, `OSS ${site.operation} gave an unusable answer: ${detail}`, { file: site.target, cause: err });
  const v = classifyStoreAnswer(e.code, status);
  const text = `OSS ${site.operation} answered ${detail}`;
  return vmxError(v.def, v.fix ? `${text}; ${v.fix}` : text, { file: site.target, cause: err, retryable: v.retryable });
}
