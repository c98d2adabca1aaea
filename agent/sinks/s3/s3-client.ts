import type { S3Client as S3ClientType, S3ClientConfig } from '@aws-sdk/client-s3';
import { requireCjs } from '../../core/require-cjs.js';

const { S3Client } = requireCjs('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');

export interface S3ConnectionOptions {
  /** e.g. http://127.0.0.1:7480; otherwise the SDK's AWS_ENDPOINT_URL(_S3) or the AWS endpoint. */
  endpoint?: string | undefined;
  /** Otherwise AWS_REGION or the shared config file, as the SDK resolves it. */
  region?: string | undefined;
  /** Path-style addressing (http://host/bucket/key), which S3-compatible stores usually need. */
  forcePathStyle?: boolean | undefined;
  /** Otherwise the SDK's default credential chain (env, shared files, SSO, IMDS...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
  /**
   * SDK attempts per request. 1 by default: retrying belongs to the retry decorator around the sink,
   * which sees the typed `retryable` flag; stacking two retry loops multiplies the waits.
   */
  maxAttempts?: number | undefined;
  connectionTimeoutMs?: number | undefined;
  /**
   * Idle time after which a request on which no byte moved is abandoned (the socket's inactivity
   * timer), default 45 s. There is no fixed total: the stall guard gives each part a deadline by size.
   */
  stallTimeoutMs?: number | undefined;
  /** Sockets kept to the store; at least the number of parts in flight. */
  maxSockets?: number | undefined;
  /**
   * Sign part bodies (SigV4 payload SHA-256) instead of sending UNSIGNED-PAYLOAD with Content-MD5.
   * Off by default: see unsigned-payload.ts for what each choice costs and protects.
   */
  signPayload?: boolean | undefined;
}

/**
 * Builds the SDK client. Only options the caller gave are passed, so the SDK's own resolution
 * (environment variables, shared config, credential chain) applies to everything else.
 */
export function createS3Client(opts: S3ConnectionOptions): S3ClientType {
  const config: S3ClientConfig = {
    // The SDK's default (WHEN_SUPPORTED) streams aws-chunked bodies with trailing CRC32 checksums,
    // which Ceph RGW rejects (411) and other S3-compatible stores may store verbatim. Content-MD5
    // on every part is the integrity check this sink relies on instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: opts.maxAttempts ?? 1,
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? 10_000,
      socketTimeout: opts.stallTimeoutMs ?? 45_000,
      httpAgent: { keepAlive: true, maxSockets: opts.maxSockets ?? 64 },
      httpsAgent: { keepAlive: true, maxSockets: opts.maxSockets ?? 64 },
    },
  };
  if (opts.endpoint !== undefined) config.endpoint = opts.endpoint;
  if (opts.region !== undefined) config.region = opts.region;
  if (opts.forcePathStyle !== undefined) config.forcePathStyle = opts.forcePathStyle;
  if (opts.credentials !== undefined) config.credentials = opts.credentials;
  return new S3Client(config);
}
