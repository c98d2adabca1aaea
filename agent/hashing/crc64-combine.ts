import { vmxError } from '../core/errors.js';
import { CRC64_PARAMS, type Crc64Variant } from './crc64-params.js';
import { HASH } from './error-codes.js';

/**
 * CRC-64 combine in GF(2): crc(A||B) from crc(A), crc(B) and |B|, so per-part checksums computed
 * in parallel fold into the whole object's checksum (what OSS reports for a multipart object and
 * what S3 checks as the full-object crc64nvme). Same method as zlib's crc32_combine (zlib 1.2.12+):
 * the register of A moves past |B| bytes by multiplying with x^(8|B|) mod P; with init = xorout the
 * pre- and post-conditioning cancel, so crc(A||B) = crc(A) * x^(8|B|) mod P  XOR  crc(B).
 * Polynomials are in the reflected order of the register: bit 63 is the coefficient of x^0.
 */

const X0 = 1n << 63n;
const X1 = 1n << 62n;
/** |B| may be any safe integer (< 2^53 bytes): 8|B| < 2^56, so powers x^(2^k) up to k = 56 suffice. */
const MAX_POWER_BITS = 57;

/** a * b mod P for polynomials in reflected order (64 rounds: the loop cannot depend on the data). */
function mulModPoly(a: bigint, b: bigint, reflectedPoly: bigint): bigint {
  let product = 0n;
  for (let m = X0; m !== 0n; m >>= 1n) {
    if ((a & m) !== 0n) product ^= b;
    b = (b & 1n) !== 0n ? (b >> 1n) ^ reflectedPoly : b >> 1n;
  }
  return product;
}

const powerTables = new Map<Crc64Variant, bigint[]>();

/** x^(2^k) mod P for k = 0 .. MAX_POWER_BITS-1, by repeated squaring. */
function powersOfX(variant: Crc64Variant): bigint[] {
  let table = powerTables.get(variant);
  if (table === undefined) {
    const poly = CRC64_PARAMS[variant].reflectedPolynomial;
    table = [X1];
    for (let k = 1; k < MAX_POWER_BITS; k++) table.push(mulModPoly(table[k - 1]!, table[k - 1]!, poly));
    powerTables.set(variant, table);
  }
  return table;
}

/** x^(8n) mod P: the operator that moves a register past n zero bytes. */
function xPow8n(variant: Crc64Variant, n: bigint): bigint {
  const powers = powersOfX(variant);
  const poly = CRC64_PARAMS[variant].reflectedPolynomial;
  let result = X0;
  for (let k = 3; n !== 0n; k++, n >>= 1n) {
    if ((n & 1n) !== 0n) result = mulModPoly(powers[k]!, result, poly);
  }
  return result;
}

function checkLength(lengthB: number | bigint): bigint {
  const ok = typeof lengthB === 'bigint' ? lengthB >= 0n && lengthB <= BigInt(Number.MAX_SAFE_INTEGER) : Number.isSafeInteger(lengthB) && lengthB >= 0;
  if (!ok) throw vmxError(HASH.BAD_LENGTH, `CRC-64 combine needs a byte length that is an integer in [0, 2^53-1], got ${String(lengthB)}`);
  return BigInt(lengthB);
}

/** crc(A||B) of `variant` from crcA = crc(A), crcB = crc(B) and lengthB = |B| in bytes. */
export function combineCrc64(variant: Crc64Variant, crcA: bigint, crcB: bigint, lengthB: number | bigint): bigint {
  const n = checkLength(lengthB);
  if (n === 0n) return crcA;
  return mulModPoly(xPow8n(variant, n), BigInt.asUintN(64, crcA), CRC64_PARAMS[variant].reflectedPolynomial) ^ BigInt.asUintN(64, crcB);
}
