import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';
import { readTarNumber } from './tar-numbers.js';

export const BLOCK = 512;

/** One 512-byte header block as stored, before pax or GNU long-name overrides are applied. */
export interface TarHeaderBlock {
  name: string;
  size: number;
  typeflag: string;
  linkname: string;
  /** Archive offset of the header block. */
  offset: number;
}

/**
 * Parses a header block (IEEE Std 1003.1-2017, pax, "ustar Interchange Format"): name 0..100,
 * mode 100, uid 108, gid 116, size 124..136, mtime 136, chksum 148..156, typeflag 156,
 * linkname 157..257, magic 257..263 ("ustar\0" POSIX, "ustar " + " \0" old GNU), version 263,
 * prefix 345..500 (POSIX only; GNU uses that area for atime/ctime and sparse maps).
 */
export function parseHeaderBlock(block: Buffer, offset: number, file: string): TarHeaderBlock {
  const where = { file, offset };
  const magic = block.toString('latin1', 257, 263);
  const posix = magic === 'ustar\0';
  if (!posix && magic !== 'ustar ') {
    throw vmxError(OVA.TAR_BAD_HEADER, `header block has magic ${JSON.stringify(magic)} at byte 257, not "ustar" (POSIX or GNU)`, where);
  }
  verifyChecksum(block, where);
  const name = cString(block, 0, 100);
  const prefix = posix ? cString(block, 345, 155) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size: readTarNumber(block, 124, 12, 'size', where),
    typeflag: String.fromCharCode(block[156]!),
    linkname: cString(block, 157, 100),
    offset,
  };
}

/**
 * The chksum field is the sum of all 512 header bytes with the field itself counted as spaces
 * (ustar §chksum). Historic tars summed signed chars; both sums are accepted, as GNU tar does.
 */
function verifyChecksum(block: Buffer, where: { file: string; offset: number }): void {
  const stored = readTarNumber(block, 148, 8, 'chksum', where);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b >= 128 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) {
    throw vmxError(OVA.TAR_BAD_CHECKSUM, `header checksum is ${stored} but the block's bytes sum to ${unsigned}`, { file: where.file, offset: where.offset + 148 });
  }
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** A NUL-terminated field (not terminated when it fills its whole width). */
function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end === -1 ? length : end);
}

export function paddedSize(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}
