import { isIP } from 'node:net';
import { vmxError } from '../../core/errors.js';
import { STORE } from '../error-codes.js';

/** Where the OSS sink connects and as whom. */
export interface OssSinkOptions {
  bucket: string;
  /** OSS region, e.g. `oss-cn-hangzhou` (used when no endpoint is given). */
  region?: string | undefined;
  /** A custom endpoint, e.g. `https://oss-cn-hangzhou.aliyuncs.com` or `http://localhost:9000`. */
  endpoint?: string | undefined;
  accessKeyId?: string | undefined;
  accessKeySecret?: string | undefined;
  /** STS security token for temporary credentials. */
  securityToken?: string | undefined;
  /** Path-style requests (`endpoint/bucket/key`) for custom endpoints that do not resolve bucket host names. */
  sldEnable?: boolean | undefined;
  /** Use HTTPS when the endpoint or region names no scheme. */
  secure?: boolean | undefined;
  /** Idle time after which a request on which no byte moved is abandoned (default 45 s). */
  timeoutMs?: number | undefined;
  /** Connections per sink (default 16). */
  maxSockets?: number | undefined;
  /** Largest non-range response body the sink buffers, i.e. XML listings (default 16 MiB). */
  maxResponseBytes?: number | undefined;
  /** Entries per ListParts / ListMultipartUploads page, 1-1000 (default 1000, OSS's maximum). */
  listPageSize?: number | undefined;
  /** Environment to read credentials from (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Fresh keys for temporary (STS) credentials: ali-oss asks before a request once the last ones are a minute old. */
  refreshCredentials?: (() => Promise<{ accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined }>) | undefined;
}

export interface ResolvedOssConfig {
  bucket: string;
  region: string | undefined;
  endpoint: string | undefined;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string | undefined;
  sldEnable: boolean;
  secure: boolean;
  timeoutMs: number;
  maxSockets: number;
  maxResponseBytes: number;
  listPageSize: number;
  refreshCredentials: OssSinkOptions['refreshCredentials'];
}

/** OSS bucket names: 3-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

function pick(...values: Array<string | undefined>): string | undefined {
  return values.find((v) => v !== undefined && v.trim() !== '')?.trim();
}

/**
 * Resolves credentials from options, then OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET (ossutil's and
 * the OSS SDKs' variables), then ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (the
 * Alibaba Cloud credentials chain's).
 */
export function resolveOssConfig(opts: OssSinkOptions): ResolvedOssConfig {
  const env = opts.env ?? process.env;
  if (!BUCKET_NAME.test(opts.bucket)) {
    throw vmxError(STORE.CONFIG, `bucket name "${opts.bucket}" is not a valid OSS bucket name (3-63 lower-case letters, digits, hyphens)`);
  }
  const { accessKeyId, accessKeySecret } = ossKeyPair(opts);
  if (!accessKeyId || !accessKeySecret) {
    throw vmxError(STORE.CONFIG, 'no OSS credentials: pass accessKeyId/accessKeySecret or set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (or ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET)');
  }
  const endpoint = pick(opts.endpoint);
  const region = pick(opts.region, env['OSS_REGION']);
  const listPageSize = opts.listPageSize ?? 1000;
  if (!Number.isInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000) {
    throw vmxError(STORE.CONFIG, `list page size ${listPageSize} is outside OSS's 1..1000`);
  }
  if (!endpoint && !region) throw vmxError(STORE.CONFIG, 'the OSS sink needs an endpoint or a region (e.g. oss-cn-hangzhou)');
  return {
    bucket: opts.bucket,
    region,
    endpoint,
    accessKeyId,
    accessKeySecret,
    securityToken: pick(opts.securityToken, env['OSS_SESSION_TOKEN'], env['ALIBABA_CLOUD_SECURITY_TOKEN']),
    // An IP address serves no bucket host names: path-style is the only addressing that can work.
    sldEnable: opts.sldEnable ?? (endpoint !== undefined && isIpEndpoint(endpoint)),
    secure: opts.secure ?? true,
    timeoutMs: opts.timeoutMs ?? 45_000,
    maxSockets: opts.maxSockets ?? 16,
    maxResponseBytes: opts.maxResponseBytes ?? 16 * 1024 * 1024,
    listPageSize,
    refreshCredentials: opts.refreshCredentials,
  };
}

/** True for an endpoint whose host is an IPv4 or IPv6 address, with or without a scheme and port. */
export function isIpEndpoint(endpoint: string): boolean {
  const host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`).hostname.replace(/^\[|\]$/g, '');
  return isIP(host) !== 0;
}

/** The key pair from options, then OSS_ACCESS_KEY_*, then ALIBABA_CLOUD_ACCESS_KEY_* (either may be missing). */
export function ossKeyPair(opts: OssSinkOptions): { accessKeyId: string | undefined; accessKeySecret: string | undefined } {
  const env = opts.env ?? process.env;
  return {
    accessKeyId: pick(opts.accessKeyId, env['OSS_ACCESS_KEY_ID'], env['ALIBABA_CLOUD_ACCESS_KEY_ID']),
    accessKeySecret: pick(opts.accessKeySecret, env['OSS_ACCESS_KEY_SECRET'], env['ALIBABA_CLOUD_ACCESS_KEY_SECRET']),
  };
}
