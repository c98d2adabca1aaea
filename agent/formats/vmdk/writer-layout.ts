/**
 * On-disk structures the stream-optimized writer emits, encoded byte for byte.
 * Source: VMware "Virtual Disk Format 5.0" technical note, §"Hosted Sparse Extent Header" and
 * §"Stream-Optimized Compressed Sparse Extents" (markers, footer, end-of-stream). All integers are
 * little-endian; every offset and size counts 512-byte sectors.
 */

export const SECTOR_BYTES = 512;

/** 'KDMV' read as a little-endian uint32 (§Hosted Sparse Extent Header: SPARSE_MAGICNUMBER 0x564d444b). */
export const SPARSE_MAGIC = 0x564d444b;

/** Version 3 is the one stream-optimized extents carry (§Hosted Sparse Extent Header, "version"). */
export const STREAM_OPTIMIZED_VERSION = 3;

/** flags bit 0: the newline-detection bytes are valid; bit 16: grains are compressed; bit 17: markers are used. */
export const FLAG_VALID_NEWLINE_TEST = 1 << 0;
export const FLAG_COMPRESSED_GRAINS = 1 << 16;
export const FLAG_HAS_MARKERS = 1 << 17;
export const STREAM_OPTIMIZED_FLAGS = FLAG_VALID_NEWLINE_TEST | FLAG_COMPRESSED_GRAINS | FLAG_HAS_MARKERS;

/** compressAlgorithm 1 = COMPRESSION_DEFLATE (zlib-wrapped deflate, as VMware and qemu write it). */
export const COMPRESSION_DEFLATE = 1;

/** gdOffset value in the leading header meaning "read the footer for the real grain directory offset". */
export const GD_AT_END = 0xffffffffffffffffn;

/** 64 KiB grains, 512 entries per grain table: the values VMware and qemu write (§Grain Tables). */
export const GRAIN_SECTORS = 128;
export const GRAIN_BYTES = GRAIN_SECTORS * SECTOR_BYTES;
export const GTES_PER_GT = 512;
/** A grain table is 512 uint32 entries = 4 sectors. */
export const GT_SECTORS = (GTES_PER_GT * 4) / SECTOR_BYTES;

/** Grain entries and directory entries are uint32 sector offsets. */
export const MAX_SECTOR_OFFSET = 0xffffffff;

/** §Stream-Optimized: grain marker = uint64 lba + uint32 size, then the compressed bytes. */
export const GRAIN_MARKER_BYTES = 12;

/** Metadata marker types (§Stream-Optimized, "type" field of a marker whose size is 0). */
export const MARKER_EOS = 0;
export const MARKER_GT = 1;
export const MARKER_GD = 2;
export const MARKER_FOOTER = 3;

export interface SparseHeaderFields {
  capacitySectors: number;
  descriptorOffsetSectors: number;
  descriptorSectors: number;
  /** Sector of the grain directory, or GD_AT_END in the leading header. */
  gdOffset: bigint;
  /** Sectors of metadata before the first grain (header + descriptor + padding). */
  overHeadSectors: number;
}

/**
 * SparseExtentHeader (§Hosted Sparse Extent Header), 512 bytes:
 *   0 magicNumber u32, 4 version u32, 8 flags u32, 12 capacity u64, 20 grainSize u64,
 *   28 descriptorOffset u64, 36 descriptorSize u64, 44 numGTEsPerGT u32, 48 rgdOffset u64,
 *   56 gdOffset u64, 64 overHead u64, 72 uncleanShutdown u8, 73 singleEndLineChar '\n',
 *   74 nonEndLineChar ' ', 75 doubleEndLineChar1 '\r', 76 doubleEndLineChar2 '\n',
 *   77 compressAlgorithm u16, 79 pad[433] zero.
 * rgdOffset stays 0: stream-optimized extents have no redundant directory (flags bit 1 clear).
 */
export function encodeSparseHeader(f: SparseHeaderFields): Buffer {
  const b = Buffer.alloc(SECTOR_BYTES);
  b.writeUInt32LE(SPARSE_MAGIC, 0);
  b.writeUInt32LE(STREAM_OPTIMIZED_VERSION, 4);
  b.writeUInt32LE(STREAM_OPTIMIZED_FLAGS, 8);
  b.writeBigUInt64LE(BigInt(f.capacitySectors), 12);
  b.writeBigUInt64LE(BigInt(GRAIN_SECTORS), 20);
  b.writeBigUInt64LE(BigInt(f.descriptorOffsetSectors), 28);
  b.writeBigUInt64LE(BigInt(f.descriptorSectors), 36);
  b.writeUInt32LE(GTES_PER_GT, 44);
  b.writeBigUInt64LE(0n, 48);
  b.writeBigUInt64LE(f.gdOffset, 56);
  b.writeBigUInt64LE(BigInt(f.overHeadSectors), 64);
  b.writeUInt8(0, 72);
  b.write('\n \r\n', 73, 'latin1');
  b.writeUInt16LE(COMPRESSION_DEFLATE, 77);
  return b;
}

/**
 * A metadata marker (§Stream-Optimized, "Markers"): uint64 numSectors of the metadata that follows,
 * uint32 size = 0, uint32 type, padded to a whole sector. The end-of-stream marker is all zeros.
 */
export function encodeMetadataMarker(type: number, numSectors: number): Buffer {
  const b = Buffer.alloc(SECTOR_BYTES);
  b.writeBigUInt64LE(BigInt(numSectors), 0);
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(type, 12);
  return b;
}

/** Writes a grain marker's 12 bytes (§Stream-Optimized, "Grain Marker": lba u64, size u32) at `at`. */
export function writeGrainMarker(target: Buffer, at: number, lba: number, compressedBytes: number): void {
  target.writeBigUInt64LE(BigInt(lba), at);
  target.writeUInt32LE(compressedBytes, at + 8);
}

export function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / SECTOR_BYTES);
}
