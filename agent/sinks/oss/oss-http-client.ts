import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

/**
 * The HTTP transport the OSS sink hands to ali-oss (its `urllib` option): the subset of urllib's
 * `request(url, params)` contract ali-oss uses, over node:http with keep-alive agents, plus what
 * urllib 2 lacks: an AbortSignal that cancels the request in flight, and a cap on how many
 * response bytes are buffered (a range read needs exactly its length; XML listings are small).
 *
 * Per-call settings travel in ali-oss's `ctx` option, which it passes through untouched; the
 * transport records the underlying failure there too, because ali-oss replaces transport errors
 * with its own generic ones.
 */

/** OSS error documents are a few hundred bytes; anything far larger is not one. */
const ERROR_BODY_LIMIT = 64 * 1024;

export interface OssCallContext {
  signal?: AbortSignal | undefined;
  /** Most response body bytes accepted for this call. */
  maxResponseBytes: number;
  /** Headers of the last HTTP response, kept for error details ali-oss drops (x-oss-err on HEAD). */
  responseHeaders?: http.IncomingHttpHeaders | undefined;
  /** Set by the transport when the request failed below HTTP. */
  failure?: TransportFailure | undefined;
  /**
   * Returns this very object. ali-oss deep-copies the options of some calls (completeMultipartUpload
   * runs them through deepCopyWith), which turns the AbortSignal into a plain object and loses what
   * the transport records; a function survives that copy by reference, so the transport finds the
   * original context through it.
   */
  self?: (() => OssCallContext) | undefined;
}

export interface TransportFailure {
  kind: 'network' | 'timeout' | 'aborted' | 'too-large' | 'unresolved';
  message: string;
  /** The host name that did not resolve (kind 'unresolved'). */
  host?: string | undefined;
  cause?: unknown;
}

/** The fields of urllib's request params that ali-oss sets (lib/common/utils/createRequest.js). */
interface UrllibParams {
  method: string;
  headers: Record<string, string | number>;
  content?: Buffer | string | undefined;
  stream?: Readable | undefined;
  writeStream?: unknown;
  customResponse?: boolean | undefined;
  timeout?: number | number[] | undefined;
  ctx?: OssCallContext | undefined;
}

/** urllib's resolved value: what ali-oss reads from `result`. */
export interface UrllibResult {
  data: Buffer;
  status: number;
  headers: http.IncomingHttpHeaders;
  res: { status: number; statusCode: number; headers: http.IncomingHttpHeaders; size: number; aborted: boolean; rt: number; requestUrls: string[] };
}

/** urllib's error shape: ali-oss treats status -1 as a network error and -2 as a timeout. */
class TransportError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface OssHttpClientOptions {
  maxSockets: number;
  /** Used when a call's context names no limit. */
  defaultMaxResponseBytes: number;
}

export class OssHttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly opts: OssHttpClientOptions) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  request(url: string, params: UrllibParams): Promise<UrllibResult> {
    if (params.writeStream || params.customResponse) {
      return Promise.reject(new Error('OssHttpClient buffers responses; ali-oss streaming responses are not used by the OSS sink'));
    }
    const ctx = params.ctx?.self?.() ?? params.ctx;
    const limit = ctx?.maxResponseBytes ?? this.opts.defaultMaxResponseBytes;
    const timeoutMs = Array.isArray(params.timeout) ? params.timeout.reduce((a, b) => a + b, 0) : (params.timeout ?? 60_000);
    const started = Date.now();
    return new Promise<UrllibResult>((resolve, reject) => {
      let settled = false;
      const fail = (failure: TransportFailure, status: number, name: string) => {
        if (settled) return;
        settled = true;
        if (ctx) ctx.failure = failure;
        req.destroy();
        reject(new TransportError(name, failure.message, status));
      };
      const isHttps = url.startsWith('https:');
      const req = (isHttps ? https : http).request(url, {
        method: params.method,
        headers: withoutHost(params.headers),
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        signal: ctx?.signal,
      });
      req.setTimeout(timeoutMs, () => fail({ kind: 'timeout', message: `no byte moved for ${timeoutMs} ms (the stall timeout)` }, -2, 'ResponseTimeoutError'));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (ctx?.signal?.aborted) return fail({ kind: 'aborted', message: 'request aborted', cause: err }, -1, 'RequestAbortedError');
        // A name that does not resolve will not resolve on a retry either: a configuration mistake.
        if (err.code === 'ENOTFOUND') return fail({ kind: 'unresolved', message: `${err.code}: ${err.message}`, cause: err, host: new URL(url).hostname }, -1, 'RequestError');
        fail({ kind: 'network', message: `${err.code ?? err.name}: ${err.message}`, cause: err }, -1, 'RequestError');
      });
      req.on('response', (res) => {
        // The per-call limit sizes success bodies (a range read); error documents are small XML.
        const ok = (res.statusCode ?? 0) < 300;
        if (ctx) ctx.responseHeaders = res.headers;
        const cap = ok ? limit : Math.min(ERROR_BODY_LIMIT, this.opts.defaultMaxResponseBytes);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > cap) return fail({ kind: 'too-large', message: `HTTP ${res.statusCode} response body exceeds the ${cap} bytes this call accepts` }, -1, 'ResponseTooLargeError');
          chunks.push(chunk);
        });
        res.on('error', (err) => fail({ kind: 'network', message: `response interrupted: ${err.message}`, cause: err }, -1, 'ResponseError'));
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) return fail({ kind: 'network', message: 'response ended before its declared length' }, -1, 'ResponseError');
          settled = true;
          const status = res.statusCode ?? 0;
          const headers = res.headers;
          const rt = Date.now() - started;
          resolve({ data: Buffer.concat(chunks), status, headers, res: { status, statusCode: status, headers, size, aborted: false, rt, requestUrls: [url] } });
        });
      });
      if (params.stream) {
        params.stream.on('error', (err) => fail({ kind: 'network', message: `request body stream failed: ${err.message}`, cause: err }, -1, 'RequestError'));
        params.stream.pipe(req);
      } else {
        req.end(params.content);
      }
    });
  }
}

/**
 * Node derives Host from the URL ali-oss built, which names the endpoint the request goes to. For an
 * IP-address endpoint ali-oss sets Host to "bucket.<region>.aliyuncs.com" instead (createRequest.js),
 * which a private endpoint does not serve; the V1 signature does not cover Host, so dropping it is safe.
 */
function withoutHost(headers: Record<string, string | number>): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'host') out[k] = v;
  return out;
}
