import { vmxError } from '../core/errors.js';
import { MASK64 } from './crc64-params.js';
import { HASH } from './error-codes.js';

/**
 * How object stores spell a CRC-64:
 * - OSS (x-oss-hash-crc64ecma response header, CRC-64/XZ): the unsigned 64-bit value in decimal.
 * - S3 (x-amz-checksum-crc64nvme, CRC-64/NVME): base64 of the 8 bytes in big-endian order.
 */

export function crc64ToOss(crc: bigint): string {
  return BigInt.asUintN(64, crc).toString(10);
}

export function crc64ToS3(crc: bigint): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt.asUintN(64, crc));
  return bytes.toString('base64');
}

/** Where a checksum text came from, for the error message (e.g. the header name and object key). */
export interface ChecksumOrigin {
  readonly source: string;
}

const OSS_DECIMAL = /^[0-9]{1,20}$/;

/** Parses an OSS decimal CRC-64; rejects signs, spaces, empty text and values of 2^64 or more. */
export function parseOssCrc64(text: string, origin: ChecksumOrigin): bigint {
  const value = OSS_DECIMAL.test(text) ? BigInt(text) : -1n;
  if (value < 0n || value > MASK64) {
    throw vmxError(HASH.CHECKSUM_SYNTAX, `${origin.source}: ${JSON.stringify(text.slice(0, 40))} is not an unsigned 64-bit decimal CRC-64 (1-20 digits, below 2^64)`);
  }
  return value;
}

/** 8 bytes in base64: 11 characters, the last of which carries only 4 bits, then one '=' (RFC 4648 §4). */
const S3_BASE64 = /^[A-Za-z0-9+/]{10}[AEIMQUYcgkosw048]=$/;

/** Parses an S3 base64 CRC-64 (exactly 8 big-endian bytes in canonical base64). */
export function parseS3Crc64(text: string, origin: ChecksumOrigin): bigint {
  if (!S3_BASE64.test(text)) {
    throw vmxError(HASH.CHECKSUM_SYNTAX, `${origin.source}: ${JSON.stringify(text.slice(0, 40))} is not canonical base64 of 8 bytes (RFC 4648 §4: 11 characters and one '=')`);
  }
  return Buffer.from(text, 'base64').readBigUInt64BE(0);
}
