import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import { STORE } from '../error-codes.js';
import type { BodyPacer, DamagedPartSender, ListedObject, ObjectInfo, ObjectSink, PartCopySource, PartRef, PendingUpload, SinkCapabilities, UploadOptions } from '../object-sink.js';
import { partChecksum } from '../part-checksum.js';
import { bareEtag, checkCompleteOrder, checkPartShape, checkRange } from '../part-rules.js';
import { OSS_LIMITS } from '../store-limits.js';
import { pacedBody } from '../paced-body.js';
import { createAliOssClient, type AliOssClient, type CallOptions } from './ali-oss-client.js';
import { resolveOssConfig, type OssSinkOptions, type ResolvedOssConfig } from './oss-config.js';
import { mapOssError } from './oss-error-map.js';
import { OssHttpClient, type OssCallContext } from './oss-http-client.js';
import { asArray, objectFromListing, partFromListing, uploadFromListing, type RawObject, type RawUpload } from './oss-listing.js';
import { initiateHeaders, metadataHeaders } from './oss-upload-headers.js';

/**
 * The Alibaba Cloud OSS object sink, over ali-oss. OSS computes the CRC-64/XZ of every part it
 * receives and returns it (x-oss-hash-crc64ecma, "Check data integrity by using CRC-64"); the sink
 * compares it with the CRC of the part in memory and refuses a mismatch as BAD_DIGEST, so the
 * engine sends the part again. No Content-MD5 is computed: the CRC costs a fraction of an MD5,
 * and the per-part CRCs fold into the object's, which Complete reports.
 * Every failure becomes a typed VmxferError whose `retryable` flag the retry decorator obeys.
 */

export { OSS_LIMITS };

/** OSS answers ETags as quoted upper-case hex; every sink hands out the bare lower-case form. */
function bare(etag: string): string {
  return bareEtag(etag.trim()).toLowerCase();
}

/** CompleteMultipartUpload names each part by the ETag OSS gave it: quoted upper-case hex. */
function ossEtag(etag: string): string {
  return `"${bare(etag).toUpperCase()}"`;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class OssSink implements ObjectSink, DamagedPartSender {
  readonly kind = 'oss' as const;
  readonly bucket: string;
  readonly limits = OSS_LIMITS;
  /** OSS reports x-oss-hash-crc64ecma for the whole object; its multipart ETag is not documented as S3's MD5 of MD5s. */
  readonly capabilities: SinkCapabilities = { partChecksum: 'crc64ecma', objectChecksum: 'crc64ecma', multipartEtag: false };
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
      throw vmxError(STORE.BAD_RESPONSE, 'InitiateMultipartUpload returned no UploadId', { file: this.target(key) });
    }
    return r.uploadId;
  }

  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef> {
    return this.sendPart(key, uploadId, partNumber, body, body, signal, pacer);
  }

  uploadDamagedPart(key: string, uploadId: string, partNumber: number, sent: Buffer, checksummed: Buffer, signal?: AbortSignal): Promise<PartRef> {
    return this.sendPart(key, uploadId, partNumber, sent, checksummed, signal);
  }

  /** Sends `body`; OSS's CRC-64 of what arrived must equal the CRC-64 of `checksummed` (the same buffer but in the damaged-part test). */
  private async sendPart(key: string, uploadId: string, partNumber: number, body: Buffer, checksummed: Buffer, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef> {
    checkPartShape(this.limits, partNumber, body.length, this.target(key));
    const crc = partChecksum('crc64ecma', checksummed);
    const r = await this.call('UploadPart', key, signal, undefined, (o) =>
      this.client.uploadPart(key, uploadId, partNumber, pacer ? pacedBody(body, pacer, signal) : body, 0, body.length, o),
    );
    const raw = r.etag ?? headerValue(r.res.headers, 'etag');
    if (!raw) throw vmxError(STORE.BAD_RESPONSE, `UploadPart of part ${partNumber} returned no ETag`, { file: this.target(key) });
    const stored = headerValue(r.res.headers, 'x-oss-hash-crc64ecma');
    if (stored === undefined) {
      throw vmxError(STORE.BAD_RESPONSE, `UploadPart of part ${partNumber} returned no x-oss-hash-crc64ecma: nothing vouches for the bytes that arrived`, { file: this.target(key) });
    }
    if (stored !== crc) {
      throw vmxError(STORE.BAD_DIGEST, `part ${partNumber}: OSS computed CRC-64 ${stored} over the ${body.length} bytes it received, the part's is ${crc}`, { file: this.target(key) });
    }
    return { partNumber, etag: bare(raw), size: body.length, checksums: { crc64ecma: crc } };
  }

  /**
   * OSS API reference, UploadPartCopy: UploadPart plus x-oss-copy-source "/bucket/key",
   * x-oss-copy-source-range "bytes=first-last" (inclusive) and x-oss-copy-source-if-match.
   */
  async copyPart(key: string, uploadId: string, partNumber: number, source: PartCopySource, signal?: AbortSignal): Promise<PartRef> {
    const size = source.end - source.start;
    checkRange(source.start, source.end, this.target(source.key));
    checkPartShape(this.limits, partNumber, size, this.target(key));
    const headers: Record<string, string> = source.ifMatch ? { 'x-oss-copy-source-if-match': ossEtag(source.ifMatch) } : {};
    const r = await this.call('UploadPartCopy', key, signal, undefined, (o) =>
      this.client.uploadPartCopy(key, uploadId, partNumber, `${source.start}-${source.end - 1}`, { sourceKey: source.key, sourceBucketName: this.bucket }, { ...o, headers }),
    );
    const raw = r.etag ?? headerValue(r.res.headers, 'etag');
    if (!raw) throw vmxError(STORE.BAD_RESPONSE, `UploadPartCopy of part ${partNumber} returned no ETag`, { file: this.target(key) });
    return { partNumber, etag: bare(raw), size, checksums: { crc64ecma: headerValue(r.res.headers, 'x-oss-hash-crc64ecma') } };
  }

  async listParts(key: string, uploadId: string, signal?: AbortSignal): Promise<PartRef[]> {
    const parts: PartRef[] = [];
    let marker = 0;
    const pageSize = this.config.listPageSize;
    for (let page = 0; page <= OSS_LIMITS.maxParts / pageSize; page++) {
      const r = await this.call('ListParts', key, signal, undefined, (o) =>
        this.client.listParts(key, uploadId, { 'max-parts': pageSize, 'part-number-marker': marker }, o),
      );
      const got = asArray(r.parts as object | object[]).map((p) => partFromListing(this.target(key), p)).map((p) => ({ ...p, etag: bare(p.etag) }));
      parts.push(...got);
      if (String(r.isTruncated) !== 'true') return parts;
      const next = Number(r.nextPartNumberMarker);
      if (!Number.isInteger(next) || next <= marker) {
        throw vmxError(STORE.BAD_RESPONSE, `ListParts is truncated but NextPartNumberMarker "${r.nextPartNumberMarker}" does not advance past ${marker}`, { file: this.target(key) });
      }
      marker = next;
    }
    throw vmxError(STORE.BAD_RESPONSE, `ListParts kept paging past ${OSS_LIMITS.maxParts} parts`, { file: this.target(key) });
  }

  async completeUpload(key: string, uploadId: string, parts: PartRef[], signal?: AbortSignal): Promise<ObjectInfo> {
    // The parts as given, never sorted: a list out of order is the caller's mistake (InvalidPartOrder).
    checkCompleteOrder(parts, this.target(key));
    for (const p of parts) checkPartShape(this.limits, p.partNumber, p.size, this.target(key));
    const list = parts.map((p) => ({ number: p.partNumber, etag: ossEtag(p.etag) }));
    const r = await this.call('CompleteMultipartUpload', key, signal, undefined, (o) => this.client.completeMultipartUpload(key, uploadId, list, o));
    const etag = r.etag ?? headerValue(r.res.headers, 'etag');
    const crc64ecma = headerValue(r.res.headers, 'x-oss-hash-crc64ecma');
    const size = parts.reduce((n, p) => n + p.size, 0);
    if (etag && crc64ecma) return { key, size, etag: bare(etag), crc64ecma };
    // Some OSS-compatible stores omit these on Complete; HeadObject has them.
    const info = await this.head(key, signal);
    if (!info) throw vmxError(STORE.BAD_RESPONSE, 'CompleteMultipartUpload succeeded but the object is absent', { file: this.target(key) });
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
        throw vmxError(STORE.BAD_RESPONSE, `ListMultipartUploads is truncated but its markers do not advance (key-marker "${nextKey}")`, { file: this.target(prefix) });
      }
      keyMarker = nextKey;
      idMarker = nextId;
    }
  }

  /** ListObjects (v1), a page of `listPageSize` keys at a time, following NextMarker. */
  async *listObjects(prefix: string, signal?: AbortSignal): AsyncGenerator<ListedObject> {
    let marker = '';
    for (;;) {
      const query: Record<string, string | number> = { prefix, 'max-keys': this.config.listPageSize };
      if (marker) query.marker = marker;
      const r = await this.call('ListObjects', prefix, signal, undefined, (o) => this.client.list(query, o));
      const page = asArray(r.objects as RawObject | RawObject[]).map((raw) => objectFromListing(this.target(prefix), raw));
      yield* page;
      if (!r.isTruncated) return;
      const next = r.nextMarker ?? '';
      if (page.length === 0 || next === '' || next === marker) {
        throw vmxError(STORE.BAD_RESPONSE, `ListObjects is truncated but its marker does not advance (marker "${next}")`, { file: this.target(prefix) });
      }
      marker = next;
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    let r;
    try {
      r = await this.call('HeadObject', key, signal, undefined, (o) => this.client.head(key, o));
    } catch (err) {
      if ((err as { code?: string }).code === STORE.NO_SUCH_KEY.code) return undefined;
      throw err;
    }
    const h = r.res.headers;
    const size = Number(headerValue(h, 'content-length'));
    const etag = headerValue(h, 'etag');
    if (!Number.isSafeInteger(size) || size < 0 || !etag) {
      throw vmxError(STORE.BAD_RESPONSE, `HeadObject returned Content-Length "${headerValue(h, 'content-length')}" and ETag "${etag}"`, { file: this.target(key) });
    }
    return { key, size, etag: bare(etag), crc64ecma: headerValue(h, 'x-oss-hash-crc64ecma'), metadata: r.meta ?? {} };
  }

  async getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<Buffer> {
    checkRange(start, end, this.target(key));
    if (end === start) {
      // An empty read still needs an object at least `start` bytes long.
      const info = await this.head(key, signal);
      if (!info) throw vmxError(STORE.NO_SUCH_KEY, 'the object does not exist', { file: this.target(key) });
      checkRange(start, end, this.target(key), info.size);
      return Buffer.alloc(0);
    }
    const want = end - start;
    // GetObject "Range": 206 with Content-Range "bytes first-last/total"; a range reaching past the
    // end is clipped (or, when OSS finds it invalid, ignored with a 200 and the whole object), so the
    // object's size is taken from the answer before the bytes are trusted.
    // At most the bytes asked for are buffered: a range read needs exactly its length.
    const r = await this.call('GetObject', key, signal, want, (o) => this.client.get(key, { ...o, headers: { Range: `bytes=${start}-${end - 1}` } }));
    const contentRange = headerValue(r.res.headers, 'content-range');
    const m = contentRange ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange) : null;
    const total = m ? Number(m[3]) : r.res.status === 200 ? r.content.length : undefined;
    if (total !== undefined) checkRange(start, end, this.target(key), total);
    if (r.res.status === 200 && total !== undefined && r.content.length === total) return r.content.subarray(start, end);
    if (r.res.status !== 206 || !m || Number(m[1]) !== start || r.content.length !== want) {
      throw vmxError(STORE.BAD_RESPONSE, `GetObject for bytes [${start}, ${end}) answered ${r.res.status} with ${r.content.length} bytes (Content-Range "${contentRange}")`, {
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
