import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';

/**
 * A numeric header field. POSIX ustar (IEEE Std 1003.1-2017, pax, "ustar Interchange Format") stores
 * octal ASCII digits, NUL- or space-terminated. GNU tar (manual §"Basic Tar Format", "base-256")
 * stores values that do not fit as big-endian binary with the top bit of the first byte set; 0xff
 * first means a negative number, which no size may be. Values past 2^53 are refused, not rounded.
 */
export function readTarNumber(block: Buffer, start: number, length: number, field: string, where: { file: string; offset: number }): number {
  const bytes = block.subarray(start, start + length);
  if (bytes[0]! & 0x80) return readBase256(bytes, field, where);
  return readOctal(bytes, field, where);
}

function readBase256(bytes: Buffer, field: string, where: { file: string; offset: number }): number {
  if (bytes[0] === 0xff) throw bad(`the ${field} field is a negative base-256 number`, where);
  let value = BigInt(bytes[0]! & 0x7f);
  for (let i = 1; i < bytes.length; i++) value = (value << 8n) | BigInt(bytes[i]!);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`the base-256 ${field} field is ${value}, beyond 2^53-1`, where);
  return Number(value);
}

function readOctal(bytes: Buffer, field: string, where: { file: string; offset: number }): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw bad(`the ${field} field has the non-octal byte 0x${c.toString(16)}`, where);
    value = value * 8 + (c - 0x30);
    digits++;
  }
  for (; i < bytes.length; i++) {
    if (bytes[i] !== 0 && bytes[i] !== 0x20) throw bad(`the ${field} field has bytes after its terminator`, where);
  }
  if (digits === 0 && bytes.some((b) => b !== 0)) throw bad(`the ${field} field holds no digits`, where);
  return value;
}

function bad(rule: string, where: { file: string; offset: number }) {
  return vmxError(OVA.TAR_BAD_HEADER, rule, where);
}

/** A decimal number from a pax record (pax "size" and the record length): digits only, at most 2^53-1. */
export function parseDecimal(text: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
