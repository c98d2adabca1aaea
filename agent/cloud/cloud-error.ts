import { isVmxferError, vmxError, type VmxferError } from '../core/errors.js';
import { CLOUD } from './error-codes.js';

/** Which cloud answered: the message says so, and the throttling codes differ. */
export type CloudName = 'aws' | 'alibaba';

/**
 * Throttling codes: EC2 "RequestLimitExceeded" (EC2 API reference, Error codes; also "Throttling" from
 * IAM/S3's query protocol), ECS "Throttling" and its ".User"/".Api" variants (ECS API, Service error
 * codes), the EBS direct APIs' "RequestThrottledException" and "ConcurrentLimitExceededException" (EBS
 * API reference, Errors). Retried with backoff; CLOUD_THROTTLED when they outlast every attempt.
 */
const THROTTLE_CODES = /^(RequestLimitExceeded|Throttling(\..*)?|ThrottlingException|TooManyRequestsException|SlowDown|RequestThrottledException|ConcurrentLimitExceededException)$/;

/**
 * Server-side faults the SDKs retry: EC2 "InternalError", "Unavailable", "ServiceUnavailable" (EC2 API
 * reference, Server error codes), IAM "ServiceFailure", ECS "InternalError", "ServiceUnavailable",
 * "UnknownError" (ECS API, common error codes: HTTP 500/503); any 5xx (EBS InternalServerException is a 500). Retried like throttling; CLOUD_UNAVAILABLE
 * when they outlast every attempt.
 */
const SERVER_FAULT_CODES = /^(InternalError|InternalFailure|InternalServerError|ServiceFailure|ServiceUnavailable|Unavailable|UnknownError|RequestTimeout|RequestTimeoutException|Service\.Unavailable|ServiceUnavailable\..*)$/;

/** Errno-style codes of a connection that failed before an answer arrived (node:net, undici). */
const TRANSPORT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
/** The same failures as messages, for SDKs that rewrap them without the errno code (Tea's ReadTimeout, "socket hang up"). */
const TRANSPORT_MESSAGE = /socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|Client network socket disconnected|ReadTimeout|ConnectTimeout|timeout of \d+ms|Connection timed out|\btimed out\b/i;

export function isThrottleCode(code: string): boolean {
  return THROTTLE_CODES.test(code);
}

export function isServerFaultCode(code: string): boolean {
  return SERVER_FAULT_CODES.test(code);
}

/** The error and the causes it wraps, outermost first (bounded: causes can form a cycle). */
function chain(err: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let e = err, n = 0; e && typeof e === 'object' && n < 8; n++) {
    out.push(e as Record<string, unknown>);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function errnoCode(e: Record<string, unknown>): string | undefined {
  return typeof e.code === 'string' && (TRANSPORT_CODES.has(e.code) || /^E[A-Z_]+$/.test(e.code)) ? e.code : undefined;
}

/** The HTTP status of an answered request: AWS SDK v3 `$metadata.httpStatusCode`, Tea `statusCode`/`data.statusCode`. */
export function httpStatusOf(err: unknown): number | undefined {
  for (const e of chain(err)) {
    const meta = e.$metadata as { httpStatusCode?: unknown } | undefined;
    const data = e.data as { statusCode?: unknown; httpStatusCode?: unknown } | undefined;
    for (const v of [meta?.httpStatusCode, e.statusCode, data?.statusCode, data?.httpStatusCode]) {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 100) return n;
    }
  }
  return undefined;
}

/**
 * The transport failure of a request that got no answer (reset, refused, timed out, name lookup
 * failed temporarily), as its errno code or a short name; undefined when an answer arrived.
 */
export function transportFailureOf(err: unknown): string | undefined {
  if (httpStatusOf(err) !== undefined) return undefined;
  for (const e of chain(err)) {
    const code = errnoCode(e);
    if (code && TRANSPORT_CODES.has(code)) return code;
    if (e.name === 'TimeoutError' || e.name === 'RequestTimeoutError') return 'ETIMEDOUT';
    if (typeof e.message === 'string' && TRANSPORT_MESSAGE.test(e.message)) return /timeout|timed out/i.test(e.message) ? 'ETIMEDOUT' : (e.message.match(/E[A-Z_]{4,}/)?.[0] ?? 'ECONNRESET');
  }
  return undefined;
}

/** The cloud's own error code of an SDK error: AWS SDK v3 `name`/`Code`, Tea (Alibaba) `code`; never an errno code. */
export function cloudCodeOf(err: unknown): string | undefined {
  const e = err as { Code?: unknown; code?: unknown; name?: unknown; $metadata?: unknown } | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.Code === 'string') return e.Code;
  if (errnoCode(e as Record<string, unknown>)) return undefined;
  if ('$metadata' in e && typeof e.name === 'string' && e.name !== 'Error' && e.name !== 'TimeoutError') return e.name;
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
 * Throttling, server faults (5xx) and transport failures are marked retryable (the SDKs' standard
 * retry classes: AWS SDKs and Tools reference, "Retry behavior"); every other answer is permanent.
 */
export function toCloudError(cloud: CloudName, operation: string, err: unknown): unknown {
  if (isVmxferError(err)) return err;
  const code = cloudCodeOf(err);
  const status = httpStatusOf(err);
  if (!code && status === undefined) {
    const transport = transportFailureOf(err);
    if (transport) return vmxError(CLOUD.UNAVAILABLE, `${cloud} ${operation}: no answer: ${transport}: ${plainMessage(err)}`, { cause: err, retryable: true });
    // Tea reads every answer as JSON, an error page of a gateway in front of the API (502/503 HTML) included.
    if (err instanceof SyntaxError) return vmxError(CLOUD.UNAVAILABLE, `${cloud} ${operation}: an answer that is not the API's (a gateway error page?): ${err.message}`, { cause: err, retryable: true });
    return err;
  }
  const rid = requestIdOf(err);
  const shown = code ?? `HTTP ${status}`;
  const sentence = `${cloud} ${operation} failed: ${shown}: ${plainMessage(err)}${rid ? ` (request id ${rid})` : ''}`;
  const transient = (code !== undefined && (isThrottleCode(code) || isServerFaultCode(code))) || (status !== undefined && (status >= 500 || status === 429));
  return vmxError(CLOUD.API_ERROR, sentence, { cause: err, retryable: transient });
}

/** The cloud code carried by a VmxferError built by toCloudError (for callers that branch on it). */
export function cloudCodeOfError(err: unknown): string | undefined {
  if (isVmxferError(err)) return cloudCodeOf((err as VmxferError & { cause?: unknown }).cause);
  return cloudCodeOf(err);
}
