import { FakeErrors } from './fake-oss-error.js';
import { fakeCrc64Ecma } from './crc64-ecma.js';
import { attributesFromHeaders, header, verifyContentMd5, type FakeRequest, type FakeResponse } from './fake-request.js';
import { md5ETag, type StoredObject } from './fake-store.js';

/** PutObject, GetObject, HeadObject and DeleteObject of the OSS protocol fake (OSS API reference). */

/** Headers every object response carries (OSS API reference, HeadObject "Response headers"). */
export function objectHeaders(obj: StoredObject): Record<string, string> {
  const h: Record<string, string> = {
    ETag: obj.etag,
    'Last-Modified': obj.lastModified.toUTCString(),
    'Content-Type': obj.contentType,
    'x-oss-object-type': obj.objectType,
    'x-oss-storage-class': obj.storageClass,
    'x-oss-hash-crc64ecma': obj.crc64ecma,
  };
  for (const [k, v] of Object.entries(obj.metadata)) h[`x-oss-meta-${k}`] = v;
  if (obj.encryption) h['x-oss-server-side-encryption'] = obj.encryption;
  if (obj.encryptionKeyId) h['x-oss-server-side-encryption-key-id'] = obj.encryptionKeyId;
  const tagCount = Object.keys(obj.tags).length;
  if (tagCount > 0) h['x-oss-tagging-count'] = String(tagCount);
  return h;
}

function existingObject(req: FakeRequest): StoredObject {
  const obj = req.store.bucket(req.bucket!).objects.get(req.key!);
  if (!obj) throw FakeErrors.noSuchKey(req.key!);
  return obj;
}

export function putObject(req: FakeRequest): FakeResponse {
  const bucket = req.store.bucket(req.bucket!);
  const md5 = verifyContentMd5(req);
  const obj: StoredObject = {
    ...attributesFromHeaders(req),
    body: req.body,
    etag: md5ETag(req.body),
    crc64ecma: fakeCrc64Ecma(req.body),
    lastModified: new Date(),
    objectType: 'Normal',
  };
  req.store.reserve(req.body.length);
  req.store.putObject(bucket, req.key!, obj);
  return { status: 200, headers: { ETag: obj.etag, 'Content-MD5': md5, 'x-oss-hash-crc64ecma': obj.crc64ecma } };
}

/**
 * Parses a single-range `Range: bytes=` header (OSS API reference, GetObject "Range"): OSS ignores
 * an invalid range and returns the whole object, and answers 416 when the start lies past the end.
 */
function parseRange(raw: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = raw === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(raw.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Math.min(Number(m[2]), size);
    return { start: size - suffix, end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw FakeErrors.invalidRange();
  return { start, end };
}

export function getObject(req: FakeRequest): FakeResponse {
  const obj = existingObject(req);
  const range = parseRange(header(req, 'range'), obj.body.length);
  if (!range) return { status: 200, headers: objectHeaders(obj), body: obj.body };
  return {
    status: 206,
    headers: { ...objectHeaders(obj), 'Content-Range': `bytes ${range.start}-${range.end}/${obj.body.length}`, 'Accept-Ranges': 'bytes' },
    body: obj.body.subarray(range.start, range.end + 1),
  };
}

export function headObject(req: FakeRequest): FakeResponse {
  const obj = existingObject(req);
  return { status: 200, headers: { ...objectHeaders(obj), 'Content-Length': String(obj.body.length) } };
}

/** DeleteObject answers 204 whether or not the key exists (OSS API reference, DeleteObject). */
export function deleteObject(req: FakeRequest): FakeResponse {
  req.store.deleteObject(req.store.bucket(req.bucket!), req.key!);
  return { status: 204, headers: {} };
}
