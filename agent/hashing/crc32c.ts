import { requireCjs } from '../core/require-cjs.js';
import { vmxError } from '../core/errors.js';
import { HASH } from './error-codes.js';

const { crc32c: nativeCrc32c } = requireCjs('@node-rs/crc32') as typeof import('@node-rs/crc32');

/**
 * CRC-32C (Castagnoli; RFC 3720 appendix B.4: reflected polynomial 0x82F63B78, init and xorout
 * 0xFFFFFFFF, check value 0xE3069283 over "123456789"), S3's x-amz-checksum-crc32c. Computed by
 * @node-rs/crc32 (SSE4.2 crc32 instruction where present): ~3.4 GB per CPU-second here against
 * ~1.1 for CRC-64 in WebAssembly (bench/README.md "Hashing").
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return nativeCrc32c(buf, previous) >>> 0;
}

/** S3's spelling: base64 of the 4 bytes, big-endian. */
export function crc32cToS3(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString('base64');
}

/** 4 bytes in base64: 6 characters, the last of which carries only 2 bits, then '==' (RFC 4648 §4). */
const S3_BASE64 = /^[A-Za-z0-9+/]{5}[AQgw]==$/;

/** Parses an S3 base64 CRC-32C (exactly 4 big-endian bytes in canonical base64). */
export function parseS3Crc32c(text: string, origin: { readonly source: string }): number {
  if (!S3_BASE64.test(text)) {
    throw vmxError(HASH.CHECKSUM_SYNTAX, `${origin.source}: ${JSON.stringify(text.slice(0, 40))} is not canonical base64 of 4 bytes (RFC 4648 §4: 6 characters and '==')`);
  }
  return Buffer.from(text, 'base64').readUInt32BE(0);
}

const POLY = 0x82f63b78;

/** a * b mod P, polynomials in the register's reflected order (bit 31 is the coefficient of x^0). */
function mulMod(a: number, b: number): number {
  let product = 0;
  for (let m = 0x80000000; m !== 0; m >>>= 1) {
    if ((a & m) !== 0) product ^= b;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) mod P for k = 0..56 (lengths below 2^53 bytes), by repeated squaring. */
const POWERS: number[] = [0x40000000];
for (let k = 1; k < 57; k++) POWERS.push(mulMod(POWERS[k - 1]!, POWERS[k - 1]!));

/**
 * crc(A||B) from crc(A), crc(B) and |B| in bytes, as zlib's crc32_combine does (the same method as
 * crc64-combine.ts): crc(A) * x^(8|B|) mod P  XOR  crc(B). S3 folds a FULL_OBJECT upload's parts so.
 */
export function combineCrc32c(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw vmxError(HASH.BAD_LENGTH, `CRC-32C combine needs a byte length that is an integer in [0, 2^53-1], got ${String(lengthB)}`);
  let op = 0x80000000;
  // 8·lengthB in binary, walked from bit 0, without forming the product (it may exceed 2^53).
  let n = lengthB;
  for (let k = 3; n > 0; k++, n = Math.floor(n / 2)) {
    if (n % 2 === 1) op = mulMod(POWERS[k]!, op);
  }
  return (mulMod(op, crcA >>> 0) ^ crcB) >>> 0;
}
