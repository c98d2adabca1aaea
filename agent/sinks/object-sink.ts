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

export interface PartChecksums {
  /** Base64 MD5 of the part body (Content-MD5). */
  md5?: string | undefined;
  /** CRC-64/ECMA-182 as an unsigned decimal string (OSS x-oss-hash-crc64ecma). */
  crc64ecma?: string | undefined;
  /** Base64 CRC-64/NVME (S3 x-amz-checksum-crc64nvme). */
  crc64nvme?: string | undefined;
  /** Base64 SHA-256 (S3 x-amz-checksum-sha256). */
  sha256?: string | undefined;
}

export interface PartRef {
  partNumber: number;
  etag: string;
  size: number;
  checksums?: PartChecksums | undefined;
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
  /** A whole-object checksum the store reports on Complete and HEAD (ObjectInfo), folded from per-part values. */
  objectChecksum: 'crc64ecma' | undefined;
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
  /** Sends one part with a checksum the store verifies (Content-MD5 at least), its bytes drawn through `pacer` when given. */
  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef>;
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

/** Reads an object's tags; every sink implements it (kept as a name for the conformance suite). */
export type ObjectTagReader = Pick<ObjectSink, 'getTags'>;
