import type { IncomingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';
import { FakeErrors } from './fake-oss-error.js';
import type { FakeStore, StoredAttributes } from './fake-store.js';

/** A request as the OSS protocol fake's operations see it: path-style bucket and key, body read. */
export interface FakeRequest {
  method: string;
  headers: IncomingHttpHeaders;
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
  body: Buffer;
  operation: string;
  store: FakeStore;
}

export interface FakeResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string | undefined;
}

/** Names the OSS API operation a request invokes (OSS API reference operation names). */
export function classifyOperation(method: string, bucket: string | undefined, key: string | undefined, q: URLSearchParams, headers: IncomingHttpHeaders = {}): string {
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : 'Unsupported';
  if (key === undefined) {
    if (method === 'PUT' && [...q.keys()].length === 0) return 'PutBucket';
    if (method === 'DELETE' && [...q.keys()].length === 0) return 'DeleteBucket';
    if (method === 'GET' && q.has('uploads')) return 'ListMultipartUploads';
    if (method === 'GET' && q.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'GET' && ![...q.keys()].some((k) => !['prefix', 'marker', 'max-keys', 'encoding-type'].includes(k))) return 'ListObjects';
    return 'Unsupported';
  }
  // DeleteObjectTagging is not implemented: named so that it is answered NotImplemented, never taken for DeleteObject.
  if (q.has('tagging')) return method === 'PUT' ? 'PutObjectTagging' : method === 'GET' ? 'GetObjectTagging' : method === 'DELETE' ? 'DeleteObjectTagging' : 'Unsupported';
  // UploadPartCopy is UploadPart with an x-oss-copy-source header (OSS API reference, UploadPartCopy).
  if (method === 'PUT' && (q.has('uploadId') || q.has('partNumber'))) return headers['x-oss-copy-source'] !== undefined ? 'UploadPartCopy' : 'UploadPart';
  if (method === 'PUT') return headers['x-oss-copy-source'] !== undefined ? 'CopyObject' : 'PutObject';
  if (method === 'GET') return q.has('uploadId') ? 'ListParts' : 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'POST' && q.has('uploads')) return 'InitiateMultipartUpload';
  if (method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
  return 'Unsupported';
}

export function header(req: FakeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Checks Content-MD5 when the request carries one (OSS API reference, common request headers:
 * "OSS verifies the MD5 hash of the body ... InvalidDigest if they differ").
 */
export function verifyContentMd5(req: FakeRequest): string {
  const actual = createHash('md5').update(req.body).digest('base64');
  const given = header(req, 'content-md5');
  if (given === undefined) return actual;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(given)) throw FakeErrors.invalidDigest(`Content-MD5 "${given}" is not the base64 of a 16-byte digest.`);
  if (given !== actual) throw FakeErrors.invalidDigest(`The Content-MD5 you specified (${given}) does not match the body's MD5 (${actual}).`);
  return actual;
}

const STORAGE_CLASSES = new Set(['Standard', 'IA', 'Archive', 'ColdArchive', 'DeepColdArchive']);
const ENCRYPTIONS = new Set(['AES256', 'KMS', 'SM4']);

/** Parses x-oss-tagging: URL-query encoded key=value pairs (OSS API reference, PutObjectTagging). */
function parseTagging(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  const tags: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) tags[k] = v;
  if (Object.keys(tags).length > 10) throw FakeErrors.invalidArgument('x-oss-tagging', raw, 'An object can have at most 10 tags.');
  return tags;
}

/** The object attributes PutObject and InitiateMultipartUpload take from request headers. */
export function attributesFromHeaders(req: FakeRequest): StoredAttributes {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith('x-oss-meta-') && v !== undefined) metadata[k.slice('x-oss-meta-'.length)] = Array.isArray(v) ? v.join(',') : v;
  }
  const storageClass = header(req, 'x-oss-storage-class') ?? 'Standard';
  if (!STORAGE_CLASSES.has(storageClass)) throw FakeErrors.invalidArgument('x-oss-storage-class', storageClass, `Invalid storage class ${storageClass}.`);
  const encryption = header(req, 'x-oss-server-side-encryption');
  if (encryption !== undefined && !ENCRYPTIONS.has(encryption)) {
    throw FakeErrors.invalidArgument('x-oss-server-side-encryption', encryption, `Invalid server-side encryption ${encryption}: use AES256, KMS or SM4.`);
  }
  const encryptionKeyId = header(req, 'x-oss-server-side-encryption-key-id');
  if (encryptionKeyId !== undefined && encryption !== 'KMS') {
    throw FakeErrors.invalidArgument('x-oss-server-side-encryption-key-id', encryptionKeyId, 'A KMS key id is only valid with x-oss-server-side-encryption: KMS.');
  }
  return {
    contentType: header(req, 'content-type') ?? 'application/octet-stream',
    metadata,
    encryption,
    encryptionKeyId,
    storageClass,
    tags: parseTagging(header(req, 'x-oss-tagging')),
  };
}
