import { createHash } from 'node:crypto';
import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import type { ObjectInfo, ObjectSink, PartRef, PendingUpload, StoreLimits, UploadOptions } from '../object-sink.js';
import { createAliOssClient, type AliOssClient, type CallOptions } from './ali-oss-client.js';
import { OSS } from './error-codes.js';
import { resolveOssConfig, type OssSinkOptions, type ResolvedOssConfig } from './oss-config.js';
import { mapOssError } from './oss-error-map.js';
import { OssHttpClient, type OssCallContext } from './oss-http-client.js';
import { asArray, partFromListing, uploadFromListing, type RawUpload } from './oss-listing.js';
import { initiateHeaders, metadataHeaders } from './oss-upload-headers.js';

/**
 * The Alibaba Cloud OSS object sink, over ali-oss. Parts carry Content-MD5 (OSS verifies it and
 * answers InvalidDigest on mismatch) and the ETag OSS returns is checked against the same MD5.
 * Every failure becomes a typed VmxferError whose `retryable` flag the retry decorator obeys.
 */

/** OSS limits (OSS API reference, UploadPart / "Limits"): 100 KB-5 GB parts, 10,000 parts, 48.8 TB objects. */
export const OSS_LIMITS: StoreLimits = {
  minPartSize: 100 * 1024,
  maxPartSize: 5 * 1024 ** 3,
  maxParts: 10_000,
  maxObjectSize: 5 * 1024 ** 3 * 10_000,
};

function md5Hex(etag: string): string {
  return etag.replace(/"/g, '').trim().toUpperCase();
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class OssSink implements ObjectSink {
  readonly kind = 'oss' as const;
  readonly bucket: string;
  readonly limits = OSS_LIMITS;
  private readonly config: ResolvedOssConfig;
  private readonly http: OssHttpClient;
  private readonly client: AliOssClient;

  constructor(opts: OssSinkOptions) {
    this.config = resolveOssConfig(opts);
    this.bucket = this.config.bucket;
    this.http = new OssHttpClient({ maxSockets: this.config.maxSockets, defaultMaxResponseBytes: this.config.maxResponseBytes });
    this.client = createAliOssClient(this.config, this.http);
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.http.destroy();
  }

  private target(key: string): string {
    return `oss://${this.bucket}/${key}`;
  }

  /** Runs one ali-oss call with a fresh per-call context and maps whatever it throws. */
  private async call<T>(operation: string, key: string, signal: AbortSignal | undefined, maxResponseBytes: number | undefined, fn: (o: CallOptions) => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    const ctx: OssCallContext = { signal, maxResponseBytes: maxResponseBytes ?? this.config.maxResponseBytes };
    ctx.self = () => ctx;
    try {
      return await fn({ ctx });
    } catch (err) {
      throw mapOssError(err, ctx, { operation, target: this.target(key) });
    }
  }

  async createUpload(key: string, opts: UploadOptions, signal?: AbortSignal): Promise<string> {
    const headers = initiateHeaders(this.target(key), opts);
    const meta = metadataHeaders(this.target(key), opts.metadata);
    const mime = opts.contentType ?? 'application/octet-stream';
    const r = await this.call('InitiateMultipartUpload', key, signal, undefined, (o) => this.client.initMultipartUpload(key, { ...o, headers, meta, mime }));
    if (typeof r.uploadId !== 'string' || r.uploadId === '') {
      throw vmxError(OSS.BAD_RESPONSE, 'InitiateMultipartUpload returned no UploadId', { file: this.target(key) });
    }
    return r.uploadId;
  }

  private checkPartRequest(key: string, partNumber: number, size: number): void {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > OSS_LIMITS.maxParts) {
      throw vmxError(OSS.BAD_REQUEST, `part number ${partNumber} is outside OSS's 1..${OSS_LIMITS.maxParts}`, { file: this.target(key) });
    }
    if (size > OSS_LIMITS.maxPartSize) {
      throw vmxError(OSS.BAD_REQUEST, `part ${partNumber} has ${size} bytes, over OSS's ${OSS_LIMITS.maxPartSize}-byte part limit`, { file: this.target(key) });
    }
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal): Promise<PartRef> {
    this.checkPartRequest(key, partNumber, body.length);
    const digest = createHash('md5').update(body).digest();
    const md5 = digest.toString('base64');
    const r = await this.call('UploadPart', key, signal, undefined, (o) =>
      this.client.uploadPart(key, uploadId, partNumber, body, 0, body.length, { ...o, headers: { 'Content-MD5': md5 } }),
    );
    const etag = r.etag ?? headerValue(r.res.headers, 'etag');
    if (!etag) throw vmxError(OSS.BAD_RESPONSE, `UploadPart of part ${partNumber} returned no ETag`, { file: this.target(key) });
    // OSS's part ETag is the MD5 of the part in upper-case hex (UploadPart "Response headers").
    if (md5Hex(etag) !== digest.toString('hex').toUpperCase()) {
      throw vmxError(OSS.ETAG_MISMATCH, `part ${partNumber}: OSS returned ETag ${etag}, but the MD5 of the ${body.length} bytes sent is ${digest.toString('hex')}`, {
        file: this.target(key),
        retryable: true,
      });
    }
    const crc64ecma = headerValue(r.res.headers, 'x-oss-hash-crc64ecma');
    return { partNumber, etag, size: body.length, checksums: { md5, crc64ecma } };
  }

  async listParts(key: string, uploadId: string, signal?: AbortSignal): Promise<PartRef[]> {
    const parts: PartRef[] = [];
    let marker = 0;
    const pageSize = this.config.listPageSize;
    for (let page = 0; page <= OSS_LIMITS.maxParts / pageSize; page++) {
      const r = await this.call('ListParts', key, signal, undefined, (o) =>
        this.client.listParts(key, uploadId, { 'max-parts': pageSize, 'part-number-marker': marker }, o),
      );
      const got = asArray(r.parts as object | object[]).map((p) => partFromListing(this.target(key), p));
      parts.push(...got);
      if (String(r.isTruncated) !== 'true') return parts;
      const next = Number(r.nextPartNumberMarker);
      if (!Number.isInteger(next) || next <= marker) {
        throw vmxError(OSS.BAD_RESPONSE, `ListParts is truncated but NextPartNumberMarker "${r.nextPartNumberMarker}" does not advance past ${marker}`, { file: this.target(key) });
      }
      marker = next;
    }
    throw vmxError(OSS.BAD_RESPONSE, `ListParts kept paging past ${OSS_LIMITS.maxParts} parts`, { file: this.target(key) });
  }

  private checkCompleteParts(key: string, parts: PartRef[]): void {
    if (parts.length === 0) throw vmxError(OSS.BAD_REQUEST, 'cannot complete a multipart upload with no parts', { file: this.target(key) });
    const seen = new Set<number>();
    for (const p of parts) {
      this.checkPartRequest(key, p.partNumber, p.size);
      if (seen.has(p.partNumber)) throw vmxError(OSS.BAD_REQUEST, `part ${p.partNumber} is listed twice for completion`, { file: this.target(key) });
      seen.add(p.partNumber);
    }
  }

  async completeUpload(key: string, uploadId: string, parts: PartRef[], signal?: AbortSignal): Promise<ObjectInfo> {
    this.checkCompleteParts(key, parts);
    const list = [...parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ number: p.partNumber, etag: p.etag }));
    const r = await this.call('CompleteMultipartUpload', key, signal, undefined, (o) => this.client.completeMultipartUpload(key, uploadId, list, o));
    const etag = r.etag ?? headerValue(r.res.headers, 'etag');
    const crc64ecma = headerValue(r.res.headers, 'x-oss-hash-crc64ecma');
    const size = parts.reduce((n, p) => n + p.size, 0);
    if (etag && crc64ecma) return { key, size, etag, crc64ecma };
    // Some OSS-compatible stores omit these on Complete; HeadObject has them.
    const info = await this.head(key, signal);
    if (!info) throw vmxError(OSS.BAD_RESPONSE, 'CompleteMultipartUpload succeeded but the object is absent', { file: this.target(key) });
    return info;
  }

  async abortUpload(key: string, uploadId: string, signal?: AbortSignal): Promise<void> {
    await this.call('AbortMultipartUpload', key, signal, undefined, (o) => this.client.abortMultipartUpload(key, uploadId, o));
  }

  async listUploads(prefix: string, signal?: AbortSignal): Promise<PendingUpload[]> {
    const out: PendingUpload[] = [];
    let keyMarker = '';
    let idMarker = '';
    for (;;) {
      const query: Record<string, string | number> = { prefix, 'max-uploads': this.config.listPageSize };
      if (keyMarker) query['key-marker'] = keyMarker;
      if (idMarker) query['upload-id-marker'] = idMarker;
      const r = await this.call('ListMultipartUploads', prefix, signal, undefined, (o) => this.client.listUploads(query, o));
      const page = asArray(r.uploads as RawUpload | RawUpload[]).map((u) => uploadFromListing(this.target(prefix), u));
      out.push(...page.filter((u) => u.key.startsWith(prefix)));
      if (!r.isTruncated) return out;
      const nextKey = r.nextKeyMarker ?? '';
      const nextId = r.nextUploadIdMarker ?? '';
      if (page.length === 0 || (nextKey === keyMarker && nextId === idMarker)) {
        throw vmxError(OSS.BAD_RESPONSE, `ListMultipartUploads is truncated but its markers do not advance (key-marker "${nextKey}")`, { file: this.target(prefix) });
      }
      keyMarker = nextKey;
      idMarker = nextId;
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    let r;
    try {
      r = await this.call('HeadObject', key, signal, undefined, (o) => this.client.head(key, o));
    } catch (err) {
      if ((err as { code?: string }).code === OSS.NO_SUCH_KEY.code) return undefined;
      throw err;
    }
    const h = r.res.headers;
    const size = Number(headerValue(h, 'content-length'));
    const etag = headerValue(h, 'etag');
    if (!Number.isSafeInteger(size) || size < 0 || !etag) {
      throw vmxError(OSS.BAD_RESPONSE, `HeadObject returned Content-Length "${headerValue(h, 'content-length')}" and ETag "${etag}"`, { file: this.target(key) });
    }
    return { key, size, etag, crc64ecma: headerValue(h, 'x-oss-hash-crc64ecma'), metadata: r.meta ?? undefined };
  }

  async getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<Buffer> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw vmxError(OSS.BAD_REQUEST, `range [${start}, ${end}) is not a valid byte range`, { file: this.target(key) });
    }
    if (end === start) return Buffer.alloc(0);
    const want = end - start;
    const r = await this.call('GetObject', key, signal, want, (o) => this.client.get(key, { ...o, headers: { Range: `bytes=${start}-${end - 1}` } }));
    const contentRange = headerValue(r.res.headers, 'content-range');
    // GetObject "Range": 206 with Content-Range "bytes first-last/total"; a range past the end is clipped.
    const m = contentRange ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange) : null;
    if (r.res.status !== 206 || !m || Number(m[1]) !== start || r.content.length !== want) {
      throw vmxError(OSS.BAD_RESPONSE, `GetObject for bytes [${start}, ${end}) answered ${r.res.status} with ${r.content.length} bytes (Content-Range "${contentRange}"); the object may be shorter`, {
        file: this.target(key),
        offset: start,
      });
    }
    return r.content;
  }

  /** OSS API reference, GetObjectTagging: the object's tag set. */
  async getTags(key: string, signal?: AbortSignal): Promise<Record<string, string>> {
    const r = await this.call('GetObjectTagging', key, signal, undefined, (o) => this.client.getObjectTagging(key, o));
    return Object.fromEntries(Object.entries(r.tag ?? {}).map(([k, v]) => [k, String(v ?? '')]));
  }

  /** OSS API reference, PutObjectTagging: replaces the object's tag set (at most 10 tags). */
  async putTags(key: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
    initiateHeaders(this.target(key), { tags });
    await this.call('PutObjectTagging', key, signal, undefined, (o) => this.client.putObjectTagging(key, tags, o));
  }

  async deleteObject(key: string, signal?: AbortSignal): Promise<void> {
    await this.call('DeleteObject', key, signal, undefined, (o) => this.client.delete(key, o));
  }
}
