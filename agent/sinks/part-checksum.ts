import { createHash } from 'node:crypto';
import { crc64, crc64ToOss, crc64ToS3, combineCrc64, parseS3Crc64 } from '../hashing/crc64.js';
import { combineCrc32c, crc32c, crc32cToS3, parseS3Crc32c } from '../hashing/crc32c.js';
import type { PartChecksumAlgorithm, PartChecksums } from './object-sink.js';

/**
 * The one checksum of a part body that its store verifies, spelled as the store spells it:
 * - md5:       base64 MD5 (Content-MD5, RFC 1864); the store refuses a mismatch (BadDigest).
 * - crc32c:    base64 big-endian CRC-32C (x-amz-checksum-crc32c); AWS S3 refuses a mismatch.
 * - crc64nvme: base64 big-endian CRC-64/NVME (x-amz-checksum-crc64nvme); AWS S3 refuses a mismatch.
 * - crc64ecma: decimal CRC-64/XZ (x-oss-hash-crc64ecma); OSS returns it for what arrived and the
 *              sink compares ("Check data integrity by using CRC-64").
 * The engine records it per part, so a resumed upload compares a regenerated part with the same one.
 */
export function partChecksum(algorithm: PartChecksumAlgorithm, body: Uint8Array): string {
  switch (algorithm) {
    case 'md5':
      return createHash('md5').update(body).digest('base64');
    case 'crc32c':
      return crc32cToS3(crc32c(body));
    case 'crc64nvme':
      return crc64ToS3(crc64('nvme', body));
    case 'crc64ecma':
      return crc64ToOss(crc64('xz', body));
  }
}

/** The checksum of `algorithm` a part carries, if it carries one. */
export function partChecksumOf(algorithm: PartChecksumAlgorithm, checksums: PartChecksums | undefined): string | undefined {
  return checksums?.[algorithm];
}

/** The whole object's CRC-64/NVME (S3 FULL_OBJECT, base64) folded from its parts' values, without reading the bytes again. */
export function fullObjectCrc64Nvme(parts: ReadonlyArray<{ size: number; crc64nvme: string }>): string {
  const whole = parts.reduce((acc, p, i) => combineCrc64('nvme', acc, parseS3Crc64(p.crc64nvme, { source: `part ${i + 1}'s CRC-64/NVME` }), p.size), 0n);
  return crc64ToS3(whole);
}

/** The whole object's CRC-32C (S3 FULL_OBJECT, base64) folded from its parts' values, without reading the bytes again. */
export function fullObjectCrc32c(parts: ReadonlyArray<{ size: number; crc32c: string }>): string {
  const whole = parts.reduce((acc, p, i) => combineCrc32c(acc, parseS3Crc32c(p.crc32c, { source: `part ${i + 1}'s CRC-32C` }), p.size), 0);
  return crc32cToS3(whole);
}
