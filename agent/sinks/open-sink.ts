import { isAbsolute } from 'node:path';
import { vmxError } from '../core/errors.js';
import { STORE } from './error-codes.js';
import type { ObjectSink } from './object-sink.js';
import { parseObjectUrl } from './object-url.js';
import { retryingSink, DEFAULT_RETRY, type RetryPolicy } from './retrying-sink.js';
import { DEFAULT_STALL, StallState, stallGuardedSink, type StallPolicy } from './stall-guard.js';
import { tracedSink } from './traced-sink.js';
import type { AlibabaCredential } from '../cloud/ecs/alibaba-credentials.js';
import { verbose, verboseEnabled } from '../core/verbose.js';
import type { S3PartChecksum } from './s3/s3-checksum.js';

/** Connection settings from flags and configuration; empty means "the SDK's standard source". */
export interface StoreConnection {
  endpoint?: string | undefined;
  region?: string | undefined;
  pathStyle?: boolean | undefined;
  maxSockets?: number | undefined;
  /** Idle time after which a request on which no byte moved is abandoned and retried (default 45 s). */
  stallTimeoutMs?: number | undefined;
  /** Keys or uploads per listing request (S3 and OSS cap it at 1000). */
  listPageSize?: number | undefined;
  /** S3's part checksum (s3-checksum.ts); default by endpoint: crc32c on AWS, md5 elsewhere. */
  checksum?: S3PartChecksum | undefined;
  /** OSS: the credential to sign with when no key pair is set, e.g. the ECS connection's of the same run (one chain lookup). */
  credential?: AlibabaCredential | undefined;
}

/** The stall policy of a connection: its idle time, and the floor rate a part's deadline scales with. */
export function stallPolicy(conn: StoreConnection): StallPolicy {
  return { ...DEFAULT_STALL, idleMs: conn.stallTimeoutMs ?? DEFAULT_STALL.idleMs };
}

/** Retry outside, the stall guard inside it: each attempt has its own deadline (and, with -v, its trace line). */
function decorate(inner: ObjectSink, conn: StoreConnection, retry: RetryPolicy): ObjectSink {
  if (!verboseEnabled()) return retryingSink(stallGuardedSink(inner, stallPolicy(conn), new StallState()), retry);
  const onRetry = (reason: string, attempt: number, err: unknown) => {
    retry.onRetry?.(reason, attempt, err);
    verbose(`retry ${attempt}/${retry.attempts - 1} after ${reason}: ${(err as Error)?.message ?? err}`);
  };
  return retryingSink(tracedSink(stallGuardedSink(inner, stallPolicy(conn), new StallState())), { ...retry, onRetry });
}

export interface OpenedSink {
  sink: ObjectSink;
  key: string;
}

/** Builds the sink for an object URL, wrapped in the retry decorator. */
export async function openSink(url: string, conn: StoreConnection = {}, retry: RetryPolicy = DEFAULT_RETRY): Promise<OpenedSink> {
  const u = parseObjectUrl(url);
  if (!u.key) throw vmxError(STORE.BAD_URL, `object URL "${url}" names no object key`);
  return { sink: decorate(await openBucket(u.kind, u.bucket, conn), conn, retry), key: u.key };
}

/** A sink for a bucket (or a prefix URL such as s3://bucket/prefix/ for listings). */
export async function openBucketSink(url: string, conn: StoreConnection = {}, retry: RetryPolicy = DEFAULT_RETRY): Promise<{ sink: ObjectSink; prefix: string }> {
  const u = parseObjectUrl(url);
  return { sink: decorate(await openBucket(u.kind, u.bucket, conn), conn, retry), prefix: u.key };
}

/**
 * Each store's module loads only when a URL names it: @aws-sdk/client-s3 alone costs ~0.35 CPU-s
 * to load, which a file:// or oss:// transfer never needs.
 */
async function openBucket(kind: ObjectSink['kind'], bucket: string, conn: StoreConnection): Promise<ObjectSink> {
  switch (kind) {
    case 'file': {
      if (!isAbsolute(bucket)) throw vmxError(STORE.BAD_URL, `file URL directory "${bucket}" must be absolute`);
      const { FileSink } = await import('./file/file-sink.js');
      return new FileSink(bucket);
    }
    case 's3': {
      const { S3Sink } = await import('./s3/s3-sink.js');
      return new S3Sink({
        bucket,
        endpoint: conn.endpoint || undefined,
        // A custom endpoint with no region anywhere still needs one for SigV4; us-east-1 is what
        // S3-compatible servers expect by default.
        region: conn.region || (conn.endpoint && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION ? 'us-east-1' : undefined),
        forcePathStyle: conn.pathStyle,
        maxSockets: conn.maxSockets,
        stallTimeoutMs: stallPolicy(conn).idleMs,
        listPageSize: conn.listPageSize,
        checksum: conn.checksum,
      });
    }
    case 'oss': {
      const [{ OssSink }, { withChainCredentials }] = await Promise.all([import('./oss/oss-sink.js'), import('./oss/oss-chain-credentials.js')]);
      // Without a key pair in the environment, the Alibaba Cloud default chain (profiles, RAM role, ...) signs.
      return new OssSink(await withChainCredentials({
        bucket,
        endpoint: conn.endpoint || undefined,
        region: conn.region || undefined,
        sldEnable: conn.pathStyle,
        maxSockets: conn.maxSockets,
        timeoutMs: stallPolicy(conn).idleMs,
        listPageSize: conn.listPageSize,
      }, conn.credential));
    }
  }
}
