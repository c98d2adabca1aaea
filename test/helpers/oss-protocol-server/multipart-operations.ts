import { createHash } from 'node:crypto';
import { FakeErrors } from './fake-oss-error.js';
import { FakeCrc64Ecma, fakeCrc64Ecma } from './crc64-ecma.js';
import { attributesFromHeaders, header, verifyContentMd5, type FakeRequest, type FakeResponse } from './fake-request.js';
import { md5ETag, type FakeUpload, type StoredObject } from './fake-store.js';
import { parseCompleteMultipartUpload, xmlDocument, type CompletePart } from './fake-xml.js';

/**
 * The multipart operations of the OSS protocol fake, each per its OSS API reference page:
 * InitiateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload, AbortMultipartUpload,
 * ListMultipartUploads.
 */

/** UploadPart: "each part except the last must be at least 100 KB"; part numbers 1-10,000. */
export const MIN_PART_SIZE = 100 * 1024;
export const MAX_PART_NUMBER = 10_000;
const MAX_LISTING = 1000;

const XML_HEADERS = { 'Content-Type': 'application/xml' };

function uploadOf(req: FakeRequest): FakeUpload {
  return req.store.upload(req.store.bucket(req.bucket!), req.key!, req.query.get('uploadId') ?? '');
}

export function boundedInt(req: FakeRequest, name: string, dflt: number, min: number, max: number): number {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw FakeErrors.invalidArgument(name, raw, `${name} must be an integer from ${min} to ${max}.`);
  return n;
}

export function initiateMultipartUpload(req: FakeRequest): FakeResponse {
  const bucket = req.store.bucket(req.bucket!);
  const upload: FakeUpload = {
    uploadId: req.store.newUploadId(),
    key: req.key!,
    initiated: new Date(),
    attributes: attributesFromHeaders(req),
    parts: new Map(),
  };
  bucket.uploads.set(upload.uploadId, upload);
  const body = xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket.name, Key: upload.key, UploadId: upload.uploadId });
  return { status: 200, headers: XML_HEADERS, body };
}

export function uploadPart(req: FakeRequest): FakeResponse {
  const upload = uploadOf(req);
  const partNumber = boundedInt(req, 'partNumber', -1, 1, MAX_PART_NUMBER);
  if (partNumber < 0) throw FakeErrors.invalidArgument('partNumber', '', 'UploadPart needs a partNumber.');
  const md5 = verifyContentMd5(req);
  req.store.reserve(req.body.length);
  const old = upload.parts.get(partNumber);
  if (old) req.store.release(old.body.length);
  const part = { partNumber, body: req.body, etag: md5ETag(req.body), crc64ecma: fakeCrc64Ecma(req.body), lastModified: new Date() };
  upload.parts.set(partNumber, part);
  return { status: 200, headers: { ETag: part.etag, 'Content-MD5': md5, 'x-oss-hash-crc64ecma': part.crc64ecma } };
}

/** x-oss-copy-source: "/bucket/key" with the key URL-encoded (OSS API reference, UploadPartCopy). */
function copySource(req: FakeRequest): { bucket: string; key: string } {
  const raw = header(req, 'x-oss-copy-source') ?? '';
  const m = /^\/([^/?]+)\/([^?]+)$/.exec(raw);
  if (!m) throw FakeErrors.invalidArgument('x-oss-copy-source', raw, 'x-oss-copy-source must be "/SourceBucketName/SourceObjectName".');
  return { bucket: decodeURIComponent(m[1]!), key: decodeURIComponent(m[2]!) };
}

/**
 * x-oss-copy-source-range "bytes=first-last": a range that does not conform to the specification
 * copies the whole source object (OSS API reference, UploadPartCopy request headers).
 */
function copyRange(req: FakeRequest, size: number): { start: number; end: number } {
  const m = /^bytes=(\d+)-(\d+)$/.exec((header(req, 'x-oss-copy-source-range') ?? '').trim());
  if (!m) return { start: 0, end: size };
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first > last || last >= size) return { start: 0, end: size };
  return { start: first, end: last + 1 };
}

/** UploadPartCopy: UploadPart whose body is a range of an existing object; x-oss-copy-source-if-match is checked (412 otherwise). */
export function uploadPartCopy(req: FakeRequest): FakeResponse {
  const upload = uploadOf(req);
  const partNumber = boundedInt(req, 'partNumber', -1, 1, MAX_PART_NUMBER);
  if (partNumber < 0) throw FakeErrors.invalidArgument('partNumber', '', 'UploadPartCopy needs a partNumber.');
  const src = copySource(req);
  const obj = req.store.bucket(src.bucket).objects.get(src.key);
  if (!obj) throw FakeErrors.noSuchKey(src.key);
  const ifMatch = header(req, 'x-oss-copy-source-if-match');
  const normalize = (etag: string) => etag.replace(/"/g, '').trim().toUpperCase();
  if (ifMatch !== undefined && normalize(ifMatch) !== normalize(obj.etag)) throw FakeErrors.preconditionFailed('x-oss-copy-source-if-match');
  const range = copyRange(req, obj.body.length);
  const body = Buffer.from(obj.body.subarray(range.start, range.end));
  req.store.reserve(body.length);
  const old = upload.parts.get(partNumber);
  if (old) req.store.release(old.body.length);
  const part = { partNumber, body, etag: md5ETag(body), crc64ecma: fakeCrc64Ecma(body), lastModified: new Date() };
  upload.parts.set(partNumber, part);
  const xml = xmlDocument('CopyPartResult', { LastModified: part.lastModified.toISOString(), ETag: part.etag });
  return { status: 200, headers: { ...XML_HEADERS, ETag: part.etag, 'x-oss-hash-crc64ecma': part.crc64ecma }, body: xml };
}

export function listParts(req: FakeRequest): FakeResponse {
  const upload = uploadOf(req);
  const maxParts = boundedInt(req, 'max-parts', MAX_LISTING, 1, MAX_LISTING);
  const marker = boundedInt(req, 'part-number-marker', 0, 0, MAX_PART_NUMBER);
  const all = [...upload.parts.values()].filter((p) => p.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  const body = xmlDocument('ListPartsResult', {
    Bucket: req.bucket,
    Key: upload.key,
    UploadId: upload.uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length ? page[page.length - 1]!.partNumber : marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: p.lastModified.toISOString(),
      ETag: p.etag,
      HashCrc64ecma: p.crc64ecma,
      Size: p.body.length,
    })),
  });
  return { status: 200, headers: XML_HEADERS, body };
}

/** Checks the requested part list against the uploaded parts: order, identity, minimum size. */
function checkCompleteParts(upload: FakeUpload, requested: CompletePart[]): void {
  if (requested.length === 0) throw FakeErrors.malformedXml('CompleteMultipartUpload lists no parts.');
  for (let i = 1; i < requested.length; i++) {
    if (requested[i]!.partNumber <= requested[i - 1]!.partNumber) throw FakeErrors.invalidPartOrder();
  }
  const normalize = (etag: string) => etag.replace(/"/g, '').trim().toUpperCase();
  requested.forEach((r, i) => {
    const part = upload.parts.get(r.partNumber);
    if (!part) throw FakeErrors.invalidPart(r.partNumber, `Part ${r.partNumber} was never uploaded to this upload.`);
    if (normalize(part.etag) !== normalize(r.etag)) {
      throw FakeErrors.invalidPart(r.partNumber, `Part ${r.partNumber}'s ETag ${r.etag} does not match the uploaded part's ${part.etag}.`);
    }
    if (i < requested.length - 1 && part.body.length < MIN_PART_SIZE) throw FakeErrors.entityTooSmall(r.partNumber, part.body.length);
  });
}

/** A multipart object's ETag: MD5 over the parts' binary MD5s, upper-case hex, "-" part count. */
function multipartETag(parts: Buffer[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `"${h.digest('hex').toUpperCase()}-${parts.length}"`;
}

export function completeMultipartUpload(req: FakeRequest): FakeResponse {
  const bucket = req.store.bucket(req.bucket!);
  const upload = uploadOf(req);
  const requested = parseCompleteMultipartUpload(req.body.toString('utf8'));
  if (!requested) throw FakeErrors.malformedXml('The body is not a CompleteMultipartUpload document.');
  checkCompleteParts(upload, requested);
  const bodies = requested.map((r) => upload.parts.get(r.partNumber)!.body);
  const crc = new FakeCrc64Ecma();
  for (const b of bodies) crc.update(b);
  const body = Buffer.concat(bodies);
  const obj: StoredObject = {
    ...upload.attributes,
    body,
    etag: multipartETag(bodies),
    crc64ecma: crc.digest(),
    lastModified: new Date(),
    objectType: 'Multipart',
  };
  req.store.reserve(body.length);
  req.store.dropUpload(bucket, upload);
  req.store.putObject(bucket, upload.key, obj);
  const xml = xmlDocument('CompleteMultipartUploadResult', {
    Location: `/${bucket.name}/${upload.key}`,
    Bucket: bucket.name,
    Key: upload.key,
    ETag: obj.etag,
  });
  return { status: 200, headers: { ...XML_HEADERS, ETag: obj.etag, 'x-oss-hash-crc64ecma': obj.crc64ecma }, body: xml };
}

export function abortMultipartUpload(req: FakeRequest): FakeResponse {
  const upload = uploadOf(req);
  req.store.dropUpload(req.store.bucket(req.bucket!), upload);
  return { status: 204, headers: {} };
}

/** ListMultipartUploads: ordered by key, then initiation; key-marker / upload-id-marker paging. */
export function listMultipartUploads(req: FakeRequest): FakeResponse {
  const bucket = req.store.bucket(req.bucket!);
  const prefix = req.query.get('prefix') ?? '';
  const keyMarker = req.query.get('key-marker') ?? '';
  const idMarker = req.query.get('upload-id-marker') ?? '';
  const max = boundedInt(req, 'max-uploads', MAX_LISTING, 1, MAX_LISTING);
  const after = (u: FakeUpload) => u.key > keyMarker || (idMarker !== '' && u.key === keyMarker && u.uploadId > idMarker);
  const all = [...bucket.uploads.values()]
    .filter((u) => u.key.startsWith(prefix) && (keyMarker === '' || after(u)))
    .sort((a, b) => (a.key === b.key ? a.uploadId.localeCompare(b.uploadId) : a.key < b.key ? -1 : 1));
  const page = all.slice(0, max);
  const last = page[page.length - 1];
  const body = xmlDocument('ListMultipartUploadsResult', {
    Bucket: bucket.name,
    KeyMarker: keyMarker,
    UploadIdMarker: idMarker,
    NextKeyMarker: last?.key ?? '',
    NextUploadIdMarker: last?.uploadId ?? '',
    Delimiter: '',
    Prefix: prefix,
    MaxUploads: max,
    IsTruncated: all.length > page.length,
    Upload: page.map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiated: u.initiated.toISOString() })),
  });
  return { status: 200, headers: XML_HEADERS, body };
}
