/**
 * The object-store seam: one small interface every store (file, S3, OSS) implements. Retry,
 * bandwidth limits and metrics wrap a sink from outside as decorators; the transfer engine knows
 * nothing of any store's details.
 */

import type { StallState } from './stall-guard.js';

export type StoreKind = 'file' | 's3' | 'oss';

export interface StoreLimits {
  minPartSize: number;
  maxPartSize: number;
  maxParts: number;
  maxObjectSize: number;
}

/** Checksums a store verifies per part (part-checksum.ts spells each). */
export type PartChecksumAlgorithm = 'md5' | 'crc32c' | 'crc64nvme' | 'crc64ecma';

export interface PartChecksums {
  /** Base64 MD5 of the part body (Content-MD5). */
  md5?: string | undefined;
  /** CRC-64/ECMA-182 as an unsigned decimal string (OSS x-oss-hash-crc64ecma). */
  crc64ecma?: string | undefined;
  /** Base64 CRC-64/NVME (S3 x-amz-checksum-crc64nvme). */
  crc64nvme?: string | undefined;
  /** Base64 CRC-32C (S3 x-amz-checksum-crc32c). */
  crc32c?: string | undefined;
  /** Base64 SHA-256 (S3 x-amz-checksum-sha256). */
  sha256?: string | undefined;
}

export interface PartRef {
  partNumber: number;
  etag: string;
  size: number;
  checksums?: PartChecksums | undefined;
}

/** A byte range of a completed object of the same bucket, copied into a part by the store itself. */
export interface PartCopySource {
  key: string;
  /** Bytes [start, end) of the source object. */
  start: number;
  end: number;
  /** The copy happens only while the source's ETag is this one (x-amz-copy-source-if-match); STORE_PRECONDITION_FAILED otherwise. */
  ifMatch?: string | undefined;
}

export interface ServerSideEncryption {
  /** S3: AES256 | aws:kms; OSS: AES256 | KMS. */
  algorithm: string;
  kmsKeyId?: string | undefined;
}

export interface UploadOptions {
  contentType?: string | undefined;
  metadata?: Record<string, string> | undefined;
  tags?: Record<string, string> | undefined;
  storageClass?: string | undefined;
  encryption?: ServerSideEncryption | undefined;
}

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  /** OSS x-oss-hash-crc64ecma, when the store reports it. */
  crc64ecma?: string | undefined;
  /** S3 x-amz-checksum-* values the store reports, keyed by algorithm. */
  checksums?: Record<string, string> | undefined;
  metadata?: Record<string, string> | undefined;
}

/** One entry of a bucket listing (S3 ListObjectsV2 / OSS ListObjects "Contents"). */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
  etag: string;
}

export interface PendingUpload {
  key: string;
  uploadId: string;
  initiated?: Date | undefined;
}

/**
 * What a store vouches for, so the transfer engine asks the sink instead of its name which
 * whole-object checks apply after Complete.
 */
export interface SinkCapabilities {
  /**
   * The checksum every part carries and the store checks, so a part damaged on the way is refused:
   * md5 (Content-MD5: S3-compatible stores such as Ceph RGW, the file store), crc32c or crc64nvme (AWS S3),
   * crc64ecma (OSS, compared by the sink with what the store computed over the bytes it received).
   */
  partChecksum: PartChecksumAlgorithm;
  /** A whole-object checksum the store reports on Complete and HEAD (ObjectInfo), folded from per-part values. */
  objectChecksum: 'crc64ecma' | 'crc64nvme' | 'crc32c' | undefined;
  /** The completed object's ETag is S3's multipart ETag: MD5 of the parts' binary MD5s, "-", the part count. */
  multipartEtag: boolean;
}

/**
 * Paces a part's bytes onto the wire (`--bwlimit`): a sink given one sends its body a slice of at
 * most `sliceBytes` at a time, each slice after `take` resolved for it, so the bytes leave at the
 * pacer's rate instead of in one burst per part. Each attempt draws its bytes again: the limit is on
 * the bytes sent.
 */
export interface BodyPacer {
  readonly sliceBytes: number;
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

export interface ObjectSink {
  /** The URL scheme, for labels (metrics, logs) only: behaviour follows `capabilities` and `limits`. */
  readonly kind: StoreKind;
  readonly bucket: string;
  readonly limits: StoreLimits;
  readonly capabilities: SinkCapabilities;
  /** Whether its requests are stalled now (set by the stall guard openSink puts around every store). */
  readonly stalls?: StallState | undefined;
  createUpload(key: string, opts: UploadOptions, signal?: AbortSignal): Promise<string>;
  /**
   * Sends one part with the checksum of `capabilities.partChecksum`, which the store verifies (the PartRef
   * carries it), its bytes drawn through `pacer` when given.
   */
  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef>;
  /**
   * Makes part `partNumber` from a range of an object already in the bucket, without its bytes
   * passing through vmxfer (S3 UploadPartCopy with x-amz-copy-source-range, OSS UploadPartCopy with
   * x-oss-copy-source-range). Present only on stores that can: its presence is the capability.
   */
  copyPart?(key: string, uploadId: string, partNumber: number, source: PartCopySource, signal?: AbortSignal): Promise<PartRef>;
  /** The store's truth about confirmed parts, for resume. */
  listParts(key: string, uploadId: string, signal?: AbortSignal): Promise<PartRef[]>;
  completeUpload(key: string, uploadId: string, parts: PartRef[], signal?: AbortSignal): Promise<ObjectInfo>;
  abortUpload(key: string, uploadId: string, signal?: AbortSignal): Promise<void>;
  listUploads(prefix: string, signal?: AbortSignal): Promise<PendingUpload[]>;
  head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined>;
  /** The completed objects whose keys start with `prefix`, in key order, fetched a page at a time. */
  listObjects(prefix: string, signal?: AbortSignal): AsyncIterable<ListedObject>;
  /** Bytes [start, end) of an object. */
  getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<Buffer>;
  deleteObject(key: string, signal?: AbortSignal): Promise<void>;
  /** The object's tags (S3 GetObjectTagging, OSS GetObjectTagging, the file store's sidecar). */
  getTags(key: string, signal?: AbortSignal): Promise<Record<string, string>>;
  /** Replaces the object's whole tag set (S3 PutObjectTagging, OSS PutObjectTagging). */
  putTags(key: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void>;
}

/**
 * A damaged part, for the conformance suite: sends `sent` with the part checksum computed over
 * `checksummed` (bytes that differ), as if `checksummed` had been damaged into `sent` on the way.
 */
export interface DamagedPartSender {
  uploadDamagedPart(key: string, uploadId: string, partNumber: number, sent: Buffer, checksummed: Buffer, signal?: AbortSignal): Promise<PartRef>;
}

/** Reads an object's tags; every sink implements it (kept as a name for the conformance suite). */
export type ObjectTagReader = Pick<ObjectSink, 'getTags'>;
