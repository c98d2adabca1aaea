import { abortedError } from '../../core/abort.js';
import { isVmxferError, vmxError, type VmxferError } from '../../core/errors.js';
import { STORE } from '../error-codes.js';
import { classifyStoreAnswer, isNetworkCode, unresolvableHostFix } from '../store-errors.js';

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  hostname?: string;
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
  if (status === undefined && e.name === 'TimeoutError' && /of inactivity/.test(e.message ?? '')) {
    return vmxError(STORE.STALLED, `S3 ${op}: no byte moved: ${e.message}`, { file: where, cause: err, retryable: true });
  }
  const netCode = networkCode(e);
  if (status === undefined && netCode) {
    return vmxError(STORE.NETWORK, `S3 ${op} failed to reach the store (${netCode}): ${e.message ?? ''}`.trim(), { file: where, cause: err, retryable: true });
  }
  if (status === undefined && (storeCode === 'AbortError' || e.name === 'AbortError')) return abortedError(signal);
  if (status === undefined) return configOrUnknown(e, op, where, err);
  const text = `S3 ${op} answered ${storeCode} (HTTP ${status})${e.message && e.message !== storeCode ? `: ${e.message}` : ''}`;
  const v = classifyStoreAnswer(storeCode, status);
  return vmxError(v.def, v.fix ? `${text}; ${v.fix}` : text, { file: where, cause: err, retryable: v.retryable });
}

function networkCode(e: SdkErrorShape): string | undefined {
  for (let cur: SdkErrorShape | undefined = e, depth = 0; cur && depth < 4; cur = cur.cause as SdkErrorShape | undefined, depth++) {
    const code = cur.code ?? cur.name;
    if (isNetworkCode(code)) return code;
    if (cur.message && /socket hang up/i.test(cur.message)) return 'ECONNRESET';
  }
  return undefined;
}

/** Failures before any request left: missing region or credentials, a bad endpoint. */
function configOrUnknown(e: SdkErrorShape, op: string, where: string, err: unknown): VmxferError {
  const msg = e.message ?? String(err);
  if (e.code === 'ENOTFOUND' || /ENOTFOUND/.test(msg)) {
    return vmxError(STORE.CONFIG, `S3 ${op} could not be sent: ${msg}; ${unresolvableHostFix(e.hostname)}`, { file: where, cause: err });
  }
  if (/region|credential|endpoint|Invalid URL/i.test(msg) || e.name === 'CredentialsProviderError') {
    return vmxError(STORE.CONFIG, `S3 ${op} could not be sent: ${msg}`, { file: where, cause: err });
  }
  return vmxError(STORE.REQUEST_REJECTED, `S3 ${op} failed: ${e.name ?? 'Error'}: ${msg}`, { file: where, cause: err });
}
