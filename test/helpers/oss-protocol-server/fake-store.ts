import { createHash, randomBytes } from 'node:crypto';
import { FakeErrors } from './fake-oss-error.js';

/**
 * The OSS protocol fake's in-memory state: buckets, objects and multipart uploads. Every stored
 * byte (objects and uploaded parts) is counted against `capacity` so a runaway test cannot eat
 * the machine's memory.
 */

export interface StoredAttributes {
  contentType: string;
  metadata: Record<string, string>;
  /** x-oss-server-side-encryption: AES256 | KMS | SM4. */
  encryption?: string | undefined;
  encryptionKeyId?: string | undefined;
  storageClass: string;
  /** x-oss-tagging, decoded. */
  tags: Record<string, string>;
}

export interface StoredObject extends StoredAttributes {
  body: Buffer;
  /** Quoted, as OSS returns it. */
  etag: string;
  crc64ecma: string;
  lastModified: Date;
  objectType: 'Normal' | 'Multipart';
}

export interface StoredPart {
  partNumber: number;
  body: Buffer;
  etag: string;
  crc64ecma: string;
  lastModified: Date;
}

export interface FakeUpload {
  uploadId: string;
  key: string;
  initiated: Date;
  attributes: StoredAttributes;
  parts: Map<number, StoredPart>;
}

export interface FakeBucket {
  name: string;
  objects: Map<string, StoredObject>;
  uploads: Map<string, FakeUpload>;
}

/** OSS returns MD5 ETags as quoted upper-case hex (OSS API reference, PutObject / UploadPart "ETag"). */
export function md5ETag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`;
}

export class FakeStore {
  readonly buckets = new Map<string, FakeBucket>();
  private used = 0;
  private uploadCounter = 0;

  constructor(readonly capacity: number) {}

  get bytesUsed(): number {
    return this.used;
  }

  /** Throws FakeStorageFull unless `n` more bytes fit. */
  reserve(n: number): void {
    if (this.used + n > this.capacity) throw FakeErrors.storageFull(this.capacity);
    this.used += n;
  }

  release(n: number): void {
    this.used -= n;
  }

  bucket(name: string): FakeBucket {
    const b = this.buckets.get(name);
    if (!b) throw FakeErrors.noSuchBucket(name);
    return b;
  }

  createBucket(name: string): void {
    if (this.buckets.has(name)) throw FakeErrors.bucketAlreadyExists(name);
    this.buckets.set(name, { name, objects: new Map(), uploads: new Map() });
  }

  deleteBucket(name: string): void {
    const b = this.bucket(name);
    if (b.objects.size > 0 || b.uploads.size > 0) throw FakeErrors.bucketNotEmpty(name);
    this.buckets.delete(name);
  }

  putObject(bucket: FakeBucket, key: string, obj: StoredObject): void {
    const old = bucket.objects.get(key);
    if (old) this.release(old.body.length);
    bucket.objects.set(key, obj);
  }

  deleteObject(bucket: FakeBucket, key: string): void {
    const old = bucket.objects.get(key);
    if (!old) return;
    this.release(old.body.length);
    bucket.objects.delete(key);
  }

  /** Upload ids sort in creation order, so listings ordered by (key, uploadId) follow OSS's. */
  newUploadId(): string {
    this.uploadCounter += 1;
    return `${this.uploadCounter.toString(16).padStart(8, '0').toUpperCase()}${randomBytes(12).toString('hex').toUpperCase()}`;
  }

  upload(bucket: FakeBucket, key: string, uploadId: string): FakeUpload {
    const up = bucket.uploads.get(uploadId);
    if (!up || up.key !== key) throw FakeErrors.noSuchUpload(uploadId);
    return up;
  }

  /** Drops an upload and the bytes of all its parts (abort, or complete after assembly). */
  dropUpload(bucket: FakeBucket, up: FakeUpload): void {
    for (const p of up.parts.values()) this.release(p.body.length);
    bucket.uploads.delete(up.uploadId);
  }
}
