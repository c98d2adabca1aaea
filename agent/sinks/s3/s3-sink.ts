import { createHash } from 'node:crypto';
import type { CreateMultipartUploadCommandInput, HeadObjectCommandOutput, S3Client, UploadPartCommand as UploadPartCommandType } from '@aws-sdk/client-s3';
import { requireCjs } from '../../core/require-cjs.js';
import { throwIfAborted } from '../../core/abort.js';
import { isVmxferError, vmxError } from '../../core/errors.js';
import { STORE } from '../error-codes.js';
import type { BodyPacer, DamagedPartSender, ListedObject, ObjectInfo, ObjectSink, ObjectTagReader, PartCopySource, PartRef, PendingUpload, SinkCapabilities, StoreLimits, UploadOptions } from '../object-sink.js';
import { fullObjectCrc32c, fullObjectCrc64Nvme, partChecksum } from '../part-checksum.js';
import { bareEtag, checkCompleteOrder, checkPartShape, checkRange, partMd5 } from '../part-rules.js';
import { defaultS3Checksum, type S3PartChecksum } from './s3-checksum.js';
import { S3_LIMITS } from '../store-limits.js';
import { createS3Client, type S3ConnectionOptions } from './s3-client.js';
import { s3Error } from './s3-errors.js';
import { readBodyExactly } from './read-body.js';
import { sendPayloadHash, sendUnsignedPayload } from './unsigned-payload.js';
import { pacedBody } from '../paced-body.js';

const {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} = requireCjs('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');

const CRC_NAMES = { crc32c: 'CRC-32C', crc64nvme: 'CRC-64/NVME' } as const;

export interface S3SinkOptions extends S3ConnectionOptions {
  bucket: string;
  /** Page size of ListParts / ListMultipartUploads (S3 caps it at 1000). */
  listPageSize?: number | undefined;
  limits?: StoreLimits | undefined;
  /** The part checksum (s3-checksum.ts); default: crc32c on AWS's endpoints, md5 elsewhere. */
  checksum?: S3PartChecksum | undefined;
}

/** An ObjectSink over the S3 API (AWS S3 and S3-compatible stores such as Ceph RGW). */
export class S3Sink implements ObjectSink, ObjectTagReader, DamagedPartSender {
  readonly kind = 's3' as const;
  /**
   * The object's ETag is S3's multipart ETag. With crc32c or crc64nvme, parts carry
   * x-amz-checksum-<algorithm> and the upload is FULL_OBJECT, so the store also reports the object's CRC.
   */
  readonly capabilities: SinkCapabilities;
  readonly bucket: string;
  readonly limits: StoreLimits;
  readonly client: S3Client;
  private readonly pageSize: number;
  private readonly signPayload: boolean;
  /**
   * Tags of the uploads this sink created. Ceph RGW (Pacific) accepts x-amz-tagging on
   * CreateMultipartUpload but drops it, so complete applies them again with PutObjectTagging.
   */
  private readonly pendingTags = new Map<string, Record<string, string>>();

  constructor(opts: S3SinkOptions, client?: S3Client) {
    this.bucket = opts.bucket;
    this.limits = opts.limits ?? S3_LIMITS;
    this.pageSize = Math.max(1, Math.min(1000, opts.listPageSize ?? 1000));
    this.signPayload = opts.signPayload ?? false;
    this.client = client ?? createS3Client(opts);
    const checksum = opts.checksum ?? defaultS3Checksum(opts.endpoint);
    this.capabilities = { partChecksum: checksum, objectChecksum: checksum === 'md5' ? undefined : checksum, multipartEtag: true };
  }

  async createUpload(key: string, opts: UploadOptions, signal?: AbortSignal): Promise<string> {
    const out = await this.attempt('CreateMultipartUpload', key, signal, () =>
      this.client.send(new CreateMultipartUploadCommand(this.createInput(key, opts)), { abortSignal: signal }),
    );
    if (!out.UploadId) throw vmxError(STORE.REQUEST_REJECTED, 'S3 CreateMultipartUpload answered without an UploadId', { file: this.where(key) });
    if (opts.tags && Object.keys(opts.tags).length > 0) this.pendingTags.set(out.UploadId, opts.tags);
    return out.UploadId;
  }

  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef> {
    return this.sendPart(key, uploadId, partNumber, body, body, signal, pacer);
  }

  uploadDamagedPart(key: string, uploadId: string, partNumber: number, sent: Buffer, checksummed: Buffer, signal?: AbortSignal): Promise<PartRef> {
    return this.sendPart(key, uploadId, partNumber, sent, checksummed, signal);
  }

  /**
   * S3 UploadPartCopy: x-amz-copy-source names the object (URL-encoded key), x-amz-copy-source-range
   * "bytes=first-last" its inclusive range, x-amz-copy-source-if-match its ETag. The answer's
   * CopyPartResult carries the new part's ETag, the MD5 of the copied bytes unless SSE-KMS hides it.
   */
  async copyPart(key: string, uploadId: string, partNumber: number, source: PartCopySource, signal?: AbortSignal): Promise<PartRef> {
    const size = source.end - source.start;
    checkRange(source.start, source.end, this.where(source.key));
    checkPartShape(this.limits, partNumber, size, this.where(key));
    const out = await this.attempt('UploadPartCopy', key, signal, () =>
      this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: `${this.bucket}/${encodeURIComponent(source.key)}`,
          CopySourceRange: `bytes=${source.start}-${source.end - 1}`,
          CopySourceIfMatch: source.ifMatch ? `"${bareEtag(source.ifMatch)}"` : undefined,
        }),
        { abortSignal: signal },
      ),
    );
    const etag = bareEtag(out.CopyPartResult?.ETag);
    if (!etag) throw vmxError(STORE.BAD_RESPONSE, `UploadPartCopy of part ${partNumber} answered without an ETag`, { file: this.where(key) });
    return { partNumber, etag, size };
  }

  async listParts(key: string, uploadId: string, signal?: AbortSignal): Promise<PartRef[]> {
    const parts: PartRef[] = [];
    let marker: string | undefined;
    for (;;) {
      throwIfAborted(signal);
      const page = await this.attemptOnUpload('ListParts', key, signal, () =>
        this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MaxParts: this.pageSize, PartNumberMarker: marker }), { abortSignal: signal }),
      );
      for (const p of page.Parts ?? []) parts.push({ partNumber: p.PartNumber ?? 0, etag: bareEtag(p.ETag), size: p.Size ?? 0 });
      if (!page.IsTruncated) return parts;
      marker = this.nextMarker(key, 'ListParts', marker, page.NextPartNumberMarker);
    }
  }

  async completeUpload(key: string, uploadId: string, parts: PartRef[], signal?: AbortSignal): Promise<ObjectInfo> {
    checkCompleteOrder(parts, this.where(key));
    const Parts = parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${bareEtag(p.etag)}"` }));
    const out = await this.attemptOnUpload('CompleteMultipartUpload', key, signal, () =>
      this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts }, ...this.fullObjectChecksum(parts) }), { abortSignal: signal }),
    ).catch((err) => this.explainFailedComplete(err, key, uploadId, signal));
    await this.applyTags(key, uploadId, signal);
    // Verify against the store's own record, not our arithmetic: the size must be the bytes sent.
    const info = await this.head(key, signal);
    const sent = parts.reduce((n, p) => n + p.size, 0);
    if (!info || info.size !== sent) {
      throw vmxError(STORE.SIZE_MISMATCH, `the completed object has ${info?.size ?? 'no'} bytes, but its parts carried ${sent}`, { file: this.where(key) });
    }
    return { ...info, etag: bareEtag(out.ETag) || info.etag };
  }

  async abortUpload(key: string, uploadId: string, signal?: AbortSignal): Promise<void> {
    await this.attemptOnUpload('AbortMultipartUpload', key, signal, () =>
      this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), { abortSignal: signal }),
    );
    this.pendingTags.delete(uploadId);
  }

  async listUploads(prefix: string, signal?: AbortSignal): Promise<PendingUpload[]> {
    const uploads: PendingUpload[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      throwIfAborted(signal);
      const page = await this.attempt('ListMultipartUploads', prefix, signal, () =>
        this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, MaxUploads: this.pageSize, KeyMarker: keyMarker, UploadIdMarker: idMarker }), { abortSignal: signal }),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key !== undefined && u.UploadId !== undefined) uploads.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated });
      }
      if (!page.IsTruncated) return uploads;
      const next = `${page.NextKeyMarker ?? ''}\0${page.NextUploadIdMarker ?? ''}`;
      if (next === `${keyMarker ?? ''}\0${idMarker ?? ''}` || next === '\0') {
        throw vmxError(STORE.REQUEST_REJECTED, 'S3 ListMultipartUploads says the listing is truncated but gives no new marker', { file: this.where(prefix) });
      }
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    let out: HeadObjectCommandOutput;
    try {
      // S3 returns x-amz-checksum-* on HEAD only when asked (x-amz-checksum-mode: ENABLED).
      const mode = this.capabilities.objectChecksum !== undefined ? { ChecksumMode: 'ENABLED' as const } : {};
      out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key, ...mode }), { abortSignal: signal });
    } catch (err) {
      const mapped = s3Error(err, 'HeadObject', this.where(key), signal);
      if (mapped.code === STORE.NO_SUCH_KEY.code) return undefined;
      throw mapped;
    }
    return { key, size: out.ContentLength ?? 0, etag: bareEtag(out.ETag), metadata: out.Metadata ?? {}, checksums: headChecksums(out) };
  }

  /** ListObjectsV2, a page of `listPageSize` keys at a time, following NextContinuationToken. */
  async *listObjects(prefix: string, signal?: AbortSignal): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    for (;;) {
      throwIfAborted(signal);
      const page = await this.attempt('ListObjectsV2', prefix, signal, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: this.pageSize, ContinuationToken: token }), { abortSignal: signal }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0), etag: bareEtag(o.ETag) };
      }
      if (!page.IsTruncated) return;
      if (!page.NextContinuationToken || page.NextContinuationToken === token) {
        throw vmxError(STORE.REQUEST_REJECTED, 'S3 ListObjectsV2 says the listing is truncated but gives no new continuation token', { file: this.where(prefix) });
      }
      token = page.NextContinuationToken;
    }
  }

  async getTags(key: string, signal?: AbortSignal): Promise<Record<string, string>> {
    const out = await this.attempt('GetObjectTagging', key, signal, () =>
      this.client.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
    );
    return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  async putTags(key: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    await this.attempt('PutObjectTagging', key, signal, () =>
      this.client.send(new PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet } }), { abortSignal: signal }),
    );
  }

  async getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<Buffer> {
    checkRange(start, end, this.where(key));
    if (start === end) {
      // S3 cannot serve an empty Range; the object must still exist and be long enough.
      const info = await this.head(key, signal);
      if (!info) throw vmxError(STORE.NO_SUCH_KEY, 'the object does not exist', { file: this.where(key) });
      checkRange(start, end, this.where(key), info.size);
      return Buffer.alloc(0);
    }
    return this.attempt('GetObject', key, signal, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }), { abortSignal: signal });
      const total = Number(/\/(\d+)$/.exec(out.ContentRange ?? '')?.[1] ?? NaN);
      if (Number.isFinite(total) && end > total) {
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        checkRange(start, end, this.where(key), total);
      }
      return readBodyExactly(out.Body, end - start, this.where(key), start, signal);
    });
  }

  async deleteObject(key: string, signal?: AbortSignal): Promise<void> {
    await this.attempt('DeleteObject', key, signal, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
    );
  }

  /** Sends `body` with the part checksum of `checksummed` (the same buffer, except in the damaged-part test). */
  private async sendPart(key: string, uploadId: string, partNumber: number, body: Buffer, checksummed: Buffer, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef> {
    checkPartShape(this.limits, partNumber, body.length, this.where(key));
    const algorithm = this.capabilities.partChecksum;
    if (algorithm === 'crc32c' || algorithm === 'crc64nvme') return this.sendCrcPart(key, uploadId, partNumber, body, algorithm, partChecksum(algorithm, checksummed), signal, pacer);
    const contentMd5 = partChecksum('md5', checksummed);
    const bodyMd5Hex = body === checksummed ? Buffer.from(contentMd5, 'base64').toString('hex') : partMd5(body).hex;
    const out = await this.attemptOnUpload('UploadPart', key, signal, () =>
      this.client.send(this.uploadPartCommand(key, uploadId, partNumber, body, { ContentMD5: contentMd5 }, pacer, signal), { abortSignal: signal }),
    );
    const etag = bareEtag(out.ETag);
    // S3 "Checking object integrity": a part's ETag is the MD5 of its bytes unless SSE-KMS or SSE-C
    // encrypted it, in which case the ETag is opaque and Content-MD5 alone vouches for the bytes.
    const opaque = (out.ServerSideEncryption ?? '').startsWith('aws:kms') || out.SSECustomerAlgorithm !== undefined;
    if (!opaque && etag !== bodyMd5Hex) {
      throw vmxError(STORE.ETAG_MISMATCH, `part ${partNumber}: the store's ETag ${etag} is not the MD5 ${bodyMd5Hex} of the ${body.length} bytes sent`, { file: this.where(key) });
    }
    return { partNumber, etag, size: body.length, checksums: { md5: contentMd5 } };
  }

  /**
   * AWS S3 checks x-amz-checksum-crc32c / -crc64nvme against the bytes it received (400 BadDigest
   * otherwise) and echoes it; the ETag, an MD5, is not computed here: the CRC vouches for the part.
   */
  private async sendCrcPart(key: string, uploadId: string, partNumber: number, body: Buffer, algorithm: 'crc32c' | 'crc64nvme', crc: string, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef> {
    const header = algorithm === 'crc32c' ? { ChecksumCRC32C: crc } : { ChecksumCRC64NVME: crc };
    const out = await this.attemptOnUpload('UploadPart', key, signal, () =>
      this.client.send(this.uploadPartCommand(key, uploadId, partNumber, body, header, pacer, signal), { abortSignal: signal }),
    );
    const echoed = algorithm === 'crc32c' ? out.ChecksumCRC32C : out.ChecksumCRC64NVME;
    if (echoed !== undefined && echoed !== crc) {
      throw vmxError(STORE.BAD_DIGEST, `part ${partNumber}: the store answered ${CRC_NAMES[algorithm]} ${echoed}, the part's is ${crc}`, { file: this.where(key) });
    }
    return { partNumber, etag: bareEtag(out.ETag), size: body.length, checksums: { [algorithm]: crc } };
  }

  /** For a FULL_OBJECT upload: the object's CRC folded from the parts', which S3 checks on Complete. */
  private fullObjectChecksum(parts: PartRef[]): { ChecksumCRC64NVME?: string; ChecksumCRC32C?: string; ChecksumType?: 'FULL_OBJECT' } {
    const algorithm = this.capabilities.partChecksum;
    if (algorithm !== 'crc32c' && algorithm !== 'crc64nvme') return {};
    const values = parts.map((p) => ({ size: p.size, value: p.checksums?.[algorithm] ?? '' }));
    // Parts sent by an older vmxfer with another checksum (a resumed upload): its upload has no checksum type to name.
    if (values.some((p) => p.value === '')) return {};
    if (algorithm === 'crc32c') return { ChecksumCRC32C: fullObjectCrc32c(values.map((p) => ({ size: p.size, crc32c: p.value }))), ChecksumType: 'FULL_OBJECT' };
    return { ChecksumCRC64NVME: fullObjectCrc64Nvme(values.map((p) => ({ size: p.size, crc64nvme: p.value }))), ChecksumType: 'FULL_OBJECT' };
  }

  /**
   * A paced body is a stream, whose bytes the SDK cannot hash to sign: a signed payload then carries
   * the SHA-256 of the buffer the stream is cut from (the value the SDK would have computed).
   */
  private uploadPartCommand(
    key: string, uploadId: string, partNumber: number, body: Buffer,
    checksum: { ContentMD5: string } | { ChecksumCRC64NVME: string } | { ChecksumCRC32C: string }, pacer: BodyPacer | undefined, signal: AbortSignal | undefined,
  ): UploadPartCommandType {
    const Body = pacer ? pacedBody(body, pacer, signal) : body;
    const command = new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body, ContentLength: body.length, ...checksum });
    if (!this.signPayload) return sendUnsignedPayload(command);
    return pacer ? sendPayloadHash(command, createHash('sha256').update(body).digest('hex')) : command;
  }

  private createInput(key: string, opts: UploadOptions): CreateMultipartUploadCommandInput {
    const input: CreateMultipartUploadCommandInput = { Bucket: this.bucket, Key: key };
    const algorithm = this.capabilities.partChecksum;
    if (algorithm === 'crc32c' || algorithm === 'crc64nvme') {
      input.ChecksumAlgorithm = algorithm === 'crc32c' ? 'CRC32C' : 'CRC64NVME';
      input.ChecksumType = 'FULL_OBJECT';
    }
    if (opts.contentType) input.ContentType = opts.contentType;
    if (opts.metadata) input.Metadata = opts.metadata;
    if (opts.tags && Object.keys(opts.tags).length > 0) input.Tagging = new URLSearchParams(opts.tags).toString();
    if (opts.storageClass) input.StorageClass = opts.storageClass as CreateMultipartUploadCommandInput['StorageClass'];
    if (opts.encryption) {
      input.ServerSideEncryption = opts.encryption.algorithm as CreateMultipartUploadCommandInput['ServerSideEncryption'];
      if (opts.encryption.kmsKeyId) input.SSEKMSKeyId = opts.encryption.kmsKeyId;
    }
    return input;
  }

  private nextMarker(key: string, op: string, previous: string | undefined, next: string | number | undefined): string {
    const marker = next === undefined ? '' : String(next);
    if (marker === '' || marker === previous) {
      throw vmxError(STORE.REQUEST_REJECTED, `S3 ${op} says the listing is truncated but gives no new marker`, { file: this.where(key) });
    }
    return marker;
  }

  /** Runs one request; whatever it throws leaves as a typed VmxferError. */
  private async attempt<T>(op: string, key: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    try {
      return await run();
    } catch (err) {
      throw s3Error(err, op, this.where(key), signal);
    }
  }

  /**
   * For requests naming an upload id: a 404 other than NoSuchBucket means the upload is gone.
   * RGW answers ListParts of an aborted upload with NoSuchKey where S3 says NoSuchUpload.
   */
  private async attemptOnUpload<T>(op: string, key: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await this.attempt(op, key, signal, run);
    } catch (err) {
      if (isVmxferError(err) && err.code === STORE.NO_SUCH_KEY.code) {
        throw vmxError(STORE.NO_SUCH_UPLOAD, `${err.message.replace(/ \[STORE_NO_SUCH_KEY\]$/, '')}: the multipart upload no longer exists`, { file: this.where(key), cause: err });
      }
      throw err;
    }
  }

  /**
   * RGW answers Complete of an aborted upload with 500 "This multipart completion is already in
   * progress" (a retryable-looking error that would never succeed): when a transient failure
   * comes back, ask ListParts whether the upload still exists and report NoSuchUpload if not.
   */
  private async explainFailedComplete(err: unknown, key: string, uploadId: string, signal?: AbortSignal): Promise<never> {
    if (!isVmxferError(err) || !err.retryable) throw err;
    const gone = await this.attemptOnUpload('ListParts', key, signal, () =>
      this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MaxParts: 1 }), { abortSignal: signal }),
    ).then(
      () => false,
      (probe: unknown) => isVmxferError(probe) && probe.code === STORE.NO_SUCH_UPLOAD.code,
    );
    if (gone) throw vmxError(STORE.NO_SUCH_UPLOAD, `S3 CompleteMultipartUpload failed and ListParts finds no upload "${uploadId}": it was aborted or completed`, { file: this.where(key), cause: err });
    throw err;
  }

  private async applyTags(key: string, uploadId: string, signal?: AbortSignal): Promise<void> {
    const tags = this.pendingTags.get(uploadId);
    if (!tags) return;
    await this.putTags(key, tags, signal);
    this.pendingTags.delete(uploadId);
  }

  private where(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}

function headChecksums(out: HeadObjectCommandOutput): Record<string, string> {
  const all: Record<string, string | undefined> = {
    crc32: out.ChecksumCRC32,
    crc32c: out.ChecksumCRC32C,
    crc64nvme: out.ChecksumCRC64NVME,
    sha1: out.ChecksumSHA1,
    sha256: out.ChecksumSHA256,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}
