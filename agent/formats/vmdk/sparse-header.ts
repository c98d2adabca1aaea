import { vmxError, type ErrorCodeDef } from '../../core/errors.js';
import { VMDK } from './error-codes.js';

/**
 * The hosted SparseExtentHeader, VMDK 5.0 §"Hosted Sparse Extent Header": 512 bytes, little-endian.
 *   0 magic "KDMV" | 4 version u32 | 8 flags u32 | 12 capacity u64 (sectors) | 20 grainSize u64 (sectors)
 *   28 descriptorOffset u64 | 36 descriptorSize u64 | 44 numGTEsPerGT u32 | 48 rgdOffset u64
 *   56 gdOffset u64 | 64 overHead u64 | 72 uncleanShutdown u8 | 73 singleEndLineChar '\n'
 *   74 nonEndLineChar ' ' | 75 doubleEndLineChar1 '\r' | 76 doubleEndLineChar2 '\n' | 77 compressAlgorithm u16
 */
export const SECTOR = 512;
export const SPARSE_MAGIC = 0x564d444b; // "KDMV" read as a little-endian u32
/** VMDK 5.0 §"Stream-Optimized Compressed Sparse Extents": gdOffset when the GD follows the grains. */
export const GD_AT_END = 0xffffffffffffffffn;
export const MAX_GRAIN_SECTORS = 2048;
export const MAX_GTES_PER_GT = 512;
/** Largest virtual size accepted: bounds every table derived from capacity. */
export const MAX_CAPACITY_BYTES = 2 ** 50;

/** Header flag bits (VMDK 5.0 §"Hosted Sparse Extent Header", flags). */
export const FLAG_NEWLINE_TEST = 1 << 0;
export const FLAG_REDUNDANT_GT = 1 << 1;
export const FLAG_ZEROED_GRAIN_GTE = 1 << 2;
export const FLAG_COMPRESSED = 1 << 16;
export const FLAG_MARKERS = 1 << 17;
export const COMPRESSION_DEFLATE = 1;

export interface SparseHeader {
  version: number;
  flags: number;
  capacitySectors: number;
  grainSectors: number;
  descriptorOffset: number;
  descriptorSectors: number;
  numGTEsPerGT: number;
  rgdOffset: number;
  /** Sector of the grain directory; `gdAtEnd` when the header defers to the footer. */
  gdOffset: number;
  gdAtEnd: boolean;
  overHead: number;
  compressAlgorithm: number;
  compressed: boolean;
  hasMarkers: boolean;
  zeroedGrainGTEs: boolean;
}

export function isSparseMagic(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === SPARSE_MAGIC;
}

/** Parses and bounds-checks one header; `offset` is where it sits in `file` (0, or the footer's place). */
export function parseSparseHeader(buf: Buffer, file: string, offset = 0): SparseHeader {
  if (buf.length < SECTOR) throw vmxError(VMDK.TRUNCATED, `the file is ${buf.length} bytes, shorter than the 512-byte sparse extent header`, { file, offset });
  if (!isSparseMagic(buf)) throw vmxError(VMDK.BAD_MAGIC, `the sparse extent header must start with "KDMV" (found 0x${buf.readUInt32LE(0).toString(16)})`, { file, offset });
  const version = buf.readUInt32LE(4);
  if (version < 1 || version > 3) throw vmxError(VMDK.UNSUPPORTED_VERSION, `sparse extent header version ${version} is not 1, 2 or 3`, { file, offset: offset + 4 });
  const flags = buf.readUInt32LE(8);
  const gdRaw = buf.readBigUInt64LE(56);
  const h: SparseHeader = {
    version,
    flags,
    capacitySectors: boundedU64(buf, 12, 'capacity', VMDK.CAPACITY_TOO_LARGE, file, offset),
    grainSectors: boundedU64(buf, 20, 'grainSize', VMDK.BAD_GRAIN_SIZE, file, offset),
    descriptorOffset: boundedU64(buf, 28, 'descriptorOffset', VMDK.MALFORMED_DESCRIPTOR, file, offset),
    descriptorSectors: boundedU64(buf, 36, 'descriptorSize', VMDK.MALFORMED_DESCRIPTOR, file, offset),
    numGTEsPerGT: buf.readUInt32LE(44),
    rgdOffset: boundedU64(buf, 48, 'rgdOffset', VMDK.GD_OUT_OF_BOUNDS, file, offset),
    gdAtEnd: gdRaw === GD_AT_END,
    gdOffset: gdRaw === GD_AT_END ? 0 : boundedU64(buf, 56, 'gdOffset', VMDK.GD_OUT_OF_BOUNDS, file, offset),
    overHead: boundedU64(buf, 64, 'overHead', VMDK.GRAIN_OUT_OF_BOUNDS, file, offset),
    compressAlgorithm: buf.readUInt16LE(77),
    compressed: (flags & FLAG_COMPRESSED) !== 0,
    hasMarkers: (flags & FLAG_MARKERS) !== 0,
    zeroedGrainGTEs: (flags & FLAG_ZEROED_GRAIN_GTE) !== 0,
  };
  checkGeometry(h, file, offset);
  checkNewlineTest(buf, flags, file, offset);
  return h;
}

/** VMDK 5.0 §"Hosted Sparse Extent Header": the four bytes "\n \r\n" detect text-mode (FTP ASCII) corruption. */
function checkNewlineTest(buf: Buffer, flags: number, file: string, offset: number): void {
  if ((flags & FLAG_NEWLINE_TEST) === 0) return;
  const ok = buf[73] === 0x0a && buf[74] === 0x20 && buf[75] === 0x0d && buf[76] === 0x0a;
  if (!ok) throw vmxError(VMDK.NEWLINE_TEST_FAILED, `newline-detection bytes are ${buf.subarray(73, 77).toString('hex')}, not 0a200d0a: the file was altered by a text-mode transfer`, { file, offset: offset + 73 });
}

/** A u64 sector count or offset, refused above 2^50 sectors so later arithmetic stays exact in a double. */
function boundedU64(buf: Buffer, at: number, name: string, code: ErrorCodeDef, file: string, offset: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > 2n ** 50n) {
    throw vmxError(code, `${name} ${v} sectors is beyond any file vmxfer reads (limit 2^50)`, { file, offset: offset + at });
  }
  return Number(v);
}

function checkGeometry(h: SparseHeader, file: string, offset: number): void {
  if (h.capacitySectors * SECTOR > MAX_CAPACITY_BYTES) {
    throw vmxError(VMDK.CAPACITY_TOO_LARGE, `capacity ${h.capacitySectors} sectors (${h.capacitySectors * SECTOR} bytes) is over the 2^50-byte limit`, { file, offset: offset + 12 });
  }
  const g = h.grainSectors;
  if (g < 1 || g > MAX_GRAIN_SECTORS || (g & (g - 1)) !== 0) {
    throw vmxError(VMDK.BAD_GRAIN_SIZE, `grainSize ${g} sectors must be a power of two from 1 to ${MAX_GRAIN_SECTORS} (1 MiB)`, { file, offset: offset + 20 });
  }
  if (h.numGTEsPerGT < 1 || h.numGTEsPerGT > MAX_GTES_PER_GT) {
    throw vmxError(VMDK.BAD_GT_SIZE, `numGTEsPerGT ${h.numGTEsPerGT} must be between 1 and ${MAX_GTES_PER_GT} (VMware uses 512)`, { file, offset: offset + 44 });
  }
  if (h.compressed !== (h.compressAlgorithm === COMPRESSION_DEFLATE) || h.compressAlgorithm > COMPRESSION_DEFLATE) {
    throw vmxError(VMDK.UNSUPPORTED_COMPRESSION, `compressAlgorithm ${h.compressAlgorithm} with the compressed-grains flag ${h.compressed ? 'set' : 'clear'}: only deflate (1) with the flag, or none (0) without it, is defined`, { file, offset: offset + 77 });
  }
}

/** Grain directory geometry derived from a checked header (VMDK 5.0 §"Grain Directories and Grain Tables"). */
export function grainCount(h: SparseHeader): number {
  return Math.ceil(h.capacitySectors / h.grainSectors);
}

export function gtCount(h: SparseHeader): number {
  return Math.ceil(grainCount(h) / h.numGTEsPerGT);
}
