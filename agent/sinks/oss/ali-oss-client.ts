import { createRequire } from 'node:module';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ResolvedOssConfig } from './oss-config.js';
import type { OssCallContext, OssHttpClient } from './oss-http-client.js';

/**
 * The slice of ali-oss 6.x the OSS sink uses, typed from its source (lib/common/multipart.js,
 * lib/common/object/*.js): @types/ali-oss lacks `sldEnable`, `urllib` and the `ctx` option that
 * carries our per-call context to the transport.
 */

export interface CallOptions {
  ctx: OssCallContext;
  headers?: Record<string, string> | undefined;
  timeout?: number | undefined;
}

interface WithRes {
  res: { status: number; headers: IncomingHttpHeaders };
}

export interface AliOssClient {
  initMultipartUpload(name: string, options: CallOptions & { meta?: Record<string, string> | undefined; mime?: string | undefined }): Promise<WithRes & { uploadId?: string }>;
  /** A stream `file` is sent as it is (managed-upload.js _createStream); a Buffer is sliced [start, end). */
  uploadPart(name: string, uploadId: string, partNo: number, file: Buffer | Readable, start: number, end: number, options: CallOptions): Promise<WithRes & { etag?: string }>;
  /** lib/common/multipart-copy.js: PUT ?partNumber&uploadId with x-oss-copy-source(-range); `range` is "first-last". */
  uploadPartCopy(
    name: string,
    uploadId: string,
    partNo: number,
    range: string,
    sourceData: { sourceKey: string; sourceBucketName: string },
    options: CallOptions,
  ): Promise<WithRes & { etag?: string }>;
  listParts(
    name: string,
    uploadId: string,
    query: Record<string, string | number>,
    options: CallOptions,
  ): Promise<WithRes & { parts: unknown; isTruncated?: string | boolean; nextPartNumberMarker?: string }>;
  completeMultipartUpload(name: string, uploadId: string, parts: Array<{ number: number; etag: string }>, options: CallOptions): Promise<WithRes & { etag?: string }>;
  abortMultipartUpload(name: string, uploadId: string, options: CallOptions): Promise<WithRes>;
  listUploads(
    query: Record<string, string | number>,
    options: CallOptions,
  ): Promise<WithRes & { uploads: unknown; isTruncated: boolean; nextKeyMarker?: string; nextUploadIdMarker?: string }>;
  /** lib/object.js list: GET /?prefix&marker&max-keys (ListObjects v1), parsed into `objects`. */
  list(
    query: Record<string, string | number>,
    options: CallOptions,
  ): Promise<WithRes & { objects: unknown; isTruncated: boolean; nextMarker?: string | null }>;
  head(name: string, options: CallOptions): Promise<WithRes & { status: number; meta: Record<string, string> | null }>;
  get(name: string, options: CallOptions): Promise<WithRes & { content: Buffer }>;
  delete(name: string, options: CallOptions): Promise<WithRes>;
  /** lib/common/object/putObjectTagging.js: PUT /name?tagging with a <Tagging><TagSet> body. */
  putObjectTagging(name: string, tag: Record<string, string>, options: CallOptions): Promise<WithRes>;
  /** lib/common/object/getObjectTagging.js: GET /name?tagging, parsed into `tag`. */
  getObjectTagging(name: string, options: CallOptions): Promise<WithRes & { tag: Record<string, string> }>;
}

/**
 * ali-oss refreshes an STS token itself when given `refreshSTSToken`: before a request, once
 * `refreshSTSTokenInterval` ms have passed since the last keys (lib/client.js request, setSTSToken).
 * The credential chain behind it caches and renews its keys before they expire, so asking every minute is cheap.
 */
export function stsRefresh(refresh: ResolvedOssConfig['refreshCredentials']): Record<string, unknown> {
  if (!refresh) return {};
  return {
    refreshSTSTokenInterval: 60_000,
    refreshSTSToken: async () => {
      const k = await refresh();
      return { accessKeyId: k.accessKeyId, accessKeySecret: k.accessKeySecret, stsToken: k.securityToken };
    },
  };
}

export function createAliOssClient(config: ResolvedOssConfig, http: OssHttpClient): AliOssClient {
  // Required on first use, not imported: loading ali-oss costs ~0.35 CPU-s, which an S3 or file upload
  // (the same CLI and daemon) should not pay.
  const Ctor = createRequire(import.meta.url)('ali-oss') as new (options: Record<string, unknown>) => AliOssClient;
  return new Ctor({
    accessKeyId: config.accessKeyId,
    accessKeySecret: config.accessKeySecret,
    stsToken: config.securityToken,
    ...stsRefresh(config.refreshCredentials),
    bucket: config.bucket,
    // ali-oss computes a host from the region even for an IP endpoint (which then crashes on an
    // undefined region); without one its default stands and the transport drops that Host.
    ...(config.region ? { region: config.region } : {}),
    endpoint: config.endpoint,
    secure: config.secure,
    sldEnable: config.sldEnable,
    timeout: config.timeoutMs,
    // Retries belong to the retry decorator around the sink, not to the SDK.
    retryMax: 0,
    urllib: http,
  });
}
