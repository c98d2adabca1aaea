import { vmxError } from '../core/errors.js';
import { combineCrc64 } from '../hashing/crc64.js';
import { fullObjectCrc32c, fullObjectCrc64Nvme } from '../sinks/part-checksum.js';
import type { ObjectInfo, ObjectSink } from '../sinks/object-sink.js';
import { TRANSFER } from './error-codes.js';
import { multipartEtag, stripQuotes } from './multipart-etag.js';
import type { CheckpointPart } from './upload-checkpoint.js';

/**
 * Before Complete: parts 1..N are exactly the parts sent, and the store's ListParts confirms each
 * one with the same ETag and size. Complete is never called on anything less.
 */
export async function confirmAllParts(sink: ObjectSink, key: string, uploadId: string, parts: CheckpointPart[], signal?: AbortSignal): Promise<void> {
  parts.forEach((p, i) => {
    if (p.partNumber !== i + 1) throw vmxError(TRANSFER.PART_MISSING, `part ${i + 1} of ${parts.length} was never confirmed; not completing ${key}`);
  });
  const listed = new Map((await sink.listParts(key, uploadId, signal)).map((p) => [p.partNumber, p]));
  for (const p of parts) {
    const l = listed.get(p.partNumber);
    if (!l || stripQuotes(l.etag) !== stripQuotes(p.etag) || l.size !== p.size) {
      const seen = l ? `ETag ${l.etag}, ${l.size} bytes` : 'nothing';
      throw vmxError(TRANSFER.PART_MISSING, `ListParts shows ${seen} for part ${p.partNumber}, which was sent with ETag ${p.etag} and ${p.size} bytes; not completing ${key}`);
    }
  }
}

/** True when a store's part ETags are not MD5s of the bytes (S3 "Checking object integrity": SSE-KMS, SSE-C). */
export function opaqueEtags(sseAlgorithm: string | undefined): boolean {
  return sseAlgorithm !== undefined && /kms/i.test(sseAlgorithm);
}

/**
 * After Complete: the object's size, and the whole-object checksum the sink vouches for (a CRC-64
 * it reports, or S3's multipart ETag = MD5 of the parts' MD5s, "-N"), must equal what was computed locally.
 * Returns which check vouched for the object.
 */
export function verifyUploadedObject(sink: ObjectSink, key: string, info: ObjectInfo, parts: CheckpointPart[], etagsOpaque: boolean): 'crc64' | 'crc32c' | 'etag' | 'size' {
  const size = parts.reduce((s, p) => s + p.size, 0);
  if (info.size !== size) {
    throw vmxError(TRANSFER.VERIFY_FAILED, `${key}: the store reports ${info.size} bytes, ${size} were sent`);
  }
  const nvme = info.checksums?.crc64nvme;
  if (nvme !== undefined && parts.every((p) => p.crc64nvme !== undefined)) {
    // S3 FULL_OBJECT: the object's CRC-64/NVME is the parts' folded in order (crc64-combine.ts).
    const whole = fullObjectCrc64Nvme(parts.map((p) => ({ size: p.size, crc64nvme: p.crc64nvme! })));
    if (whole !== nvme) throw vmxError(TRANSFER.VERIFY_FAILED, `${key}: the store's CRC-64/NVME ${nvme} differs from the local ${whole}`);
    return 'crc64';
  }
  const c32 = info.checksums?.crc32c;
  if (c32 !== undefined && parts.every((p) => p.crc32c !== undefined)) {
    // S3 FULL_OBJECT CRC-32C: the parts' folded in order (hashing/crc32c.ts).
    const whole = fullObjectCrc32c(parts.map((p) => ({ size: p.size, crc32c: p.crc32c! })));
    if (whole !== c32) throw vmxError(TRANSFER.VERIFY_FAILED, `${key}: the store's CRC-32C ${c32} differs from the local ${whole}`);
    return 'crc32c';
  }
  if (info.crc64ecma !== undefined && parts.every((p) => p.crc64 !== undefined)) {
    const whole = parts.reduce((acc, p) => combineCrc64('xz', acc, BigInt(p.crc64!), p.size), 0n).toString();
    if (whole !== info.crc64ecma) throw vmxError(TRANSFER.VERIFY_FAILED, `${key}: the store's CRC-64 ${info.crc64ecma} differs from the local ${whole}`);
    return 'crc64';
  }
  const etag = stripQuotes(info.etag);
  if (sink.capabilities.multipartEtag && !etagsOpaque && parts.every((p) => p.md5 !== undefined)) {
    const want = multipartEtag(parts.map((p) => p.md5!));
    if (etag !== want) throw vmxError(TRANSFER.VERIFY_FAILED, `${key}: the store's multipart ETag ${etag} differs from the local ${want}`);
    return 'etag';
  }
  return 'size';
}
