import { inflateSync } from 'node:zlib';
import { vmxError } from '../../core/errors.js';
import { VMDK } from './error-codes.js';

/**
 * Compressed grains, VMDK 5.0 §"Stream-Optimized Compressed Sparse Extents", "Compressed Grain":
 *   lba u64 (sector of the grain in the virtual disk) | size u32 (compressed bytes) | data[size],
 * the data being an RFC 1950 zlib stream (deflate, compressAlgorithm 1); padded to a sector.
 */
export const GRAIN_HEADER_BYTES = 12;

/** Deflate never grows data by more than ~5 bytes per 64 KiB stored block plus 6 zlib bytes. */
export function maxCompressedBytes(grainBytes: number): number {
  return grainBytes + 4096;
}

export interface GrainHeader {
  lba: number;
  size: number;
}

export function readGrainHeader(buf: Buffer, at: number): GrainHeader {
  const lba = buf.readBigUInt64LE(at);
  return { lba: lba > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(lba), size: buf.readUInt32LE(at + 8) };
}

export interface GrainPlace {
  file: string;
  /** Byte position of the grain's header in the file or stream. */
  offset: number;
}

export function checkGrainHeader(g: GrainHeader, expectedLba: number | undefined, grainBytes: number, where: GrainPlace): void {
  if (expectedLba !== undefined && g.lba !== expectedLba) {
    throw vmxError(VMDK.BAD_GRAIN_MARKER, `compressed grain says LBA ${g.lba}, but the grain table maps it to LBA ${expectedLba}`, where);
  }
  if (g.size === 0 || g.size > maxCompressedBytes(grainBytes)) {
    throw vmxError(VMDK.BAD_GRAIN_MARKER, `compressed grain size ${g.size} is 0 or over ${maxCompressedBytes(grainBytes)} bytes, the bound for a ${grainBytes}-byte grain`, where);
  }
}

/**
 * Inflates one grain. It must give exactly `grainBytes`, or exactly `tailBytes` for the last grain of
 * a capacity that is not a whole number of grains (qemu writes that grain short).
 */
export function inflateGrain(data: Buffer, grainBytes: number, tailBytes: number, where: GrainPlace): Buffer {
  let out: Buffer;
  try {
    out = inflateSync(data, { maxOutputLength: grainBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw vmxError(VMDK.GRAIN_LENGTH, `compressed grain inflates to more than the ${grainBytes}-byte grain size`, { ...where, cause: err });
    }
    throw vmxError(VMDK.CORRUPT_DEFLATE, `compressed grain is not a valid zlib stream: ${(err as Error).message}`, { ...where, cause: err });
  }
  if (out.length !== grainBytes && out.length !== tailBytes) {
    throw vmxError(VMDK.GRAIN_LENGTH, `compressed grain inflates to ${out.length} bytes, not the grain size ${grainBytes}${tailBytes !== grainBytes ? ` or the last grain's ${tailBytes}` : ''}`, where);
  }
  return out;
}
