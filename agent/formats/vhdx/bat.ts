import { vmxError } from '../../core/errors.js';
import { VHDX } from './error-codes.js';
import type { ImageBytes } from './image-bytes.js';
import { MiB, SECTORS_PER_BITMAP_BLOCK } from './layout.js';
import type { VhdxMetadata } from './metadata.js';
import type { Region } from './region-table.js';

/** [MS-VHDX] §2.5.1.1 payload block states and §2.5.1.2 sector bitmap block states. */
export const PayloadState = {
  NOT_PRESENT: 0,
  UNDEFINED: 1,
  ZERO: 2,
  UNMAPPED: 3,
  /** Version 1.00 of the specification (and qemu's block/vhdx.h, which follows it) numbered UNMAPPED 5. */
  UNMAPPED_V1: 5,
  FULLY_PRESENT: 6,
  PARTIALLY_PRESENT: 7,
} as const;
export const SB_BLOCK_PRESENT = 6;

/**
 * §2.5 BAT geometry. ChunkRatio = 2^23 * LogicalSectorSize / BlockSize payload blocks share one sector
 * bitmap block, whose BAT entry follows theirs. A dynamic or fixed disk needs DataBlocksCount +
 * floor((DataBlocksCount - 1) / ChunkRatio) entries; a differencing one SectorBitmapBlocksCount *
 * (ChunkRatio + 1).
 */
export interface BatGeometry {
  readonly blockSize: number;
  readonly chunkRatio: number;
  readonly dataBlocks: number;
  readonly sectorBitmapBlocks: number;
  readonly entries: number;
}

export function batGeometry(meta: VhdxMetadata, bat: Region, path: string): BatGeometry {
  const chunkRatio = (SECTORS_PER_BITMAP_BLOCK * meta.logicalSectorSize) / meta.blockSize;
  const dataBlocks = Math.ceil(meta.virtualSize / meta.blockSize);
  const sectorBitmapBlocks = Math.ceil(dataBlocks / chunkRatio);
  const entries = meta.hasParent ? sectorBitmapBlocks * (chunkRatio + 1) : dataBlocks + Math.floor((dataBlocks - 1) / chunkRatio);
  if (entries * 8 > bat.length) {
    throw vmxError(VHDX.BAT_TOO_SMALL, `the BAT region holds ${bat.length / 8} entries but a ${meta.virtualSize}-byte disk of ${meta.blockSize}-byte blocks needs ${entries} (MS-VHDX §2.5)`, {
      file: path,
      offset: bat.fileOffset,
    });
  }
  return { blockSize: meta.blockSize, chunkRatio, dataBlocks, sectorBitmapBlocks, entries };
}

export function payloadEntryIndex(block: number, g: BatGeometry): number {
  return block + Math.floor(block / g.chunkRatio);
}

export function bitmapEntryIndex(block: number, g: BatGeometry): number {
  return Math.floor(block / g.chunkRatio) * (g.chunkRatio + 1) + g.chunkRatio;
}

/**
 * One decoded BAT entry (§2.5.1): State in bits 0-2, FileOffsetMB in bits 20-63. Bits 3-19 are
 * reserved; they carry no meaning for a reader, so they are not interpreted.
 */
export interface BatEntry {
  readonly state: number;
  readonly fileOffset: number;
}

export function decodeBatEntry(raw: bigint): BatEntry {
  return { state: Number(raw & 7n), fileOffset: Number(raw >> 20n) * MiB };
}

const WINDOW_ENTRIES = 8192;

/** Reads BAT entries through a 64 KiB window: memory stays bounded whatever the disk size. */
export class BatReader {
  private windowStart = -1;
  private window: Buffer = Buffer.alloc(0);

  constructor(
    private readonly image: ImageBytes,
    private readonly region: Region,
    private readonly geometry: BatGeometry,
  ) {}

  /** File offset of entry `index`, for error messages. */
  entryOffset(index: number): number {
    return this.region.fileOffset + index * 8;
  }

  async entry(index: number): Promise<BatEntry> {
    if (index < this.windowStart || index >= this.windowStart + this.window.length / 8) {
      this.windowStart = index - (index % WINDOW_ENTRIES);
      const count = Math.min(WINDOW_ENTRIES, this.geometry.entries - this.windowStart);
      this.window = await this.image.read(this.entryOffset(this.windowStart), count * 8, 'VHDX BAT');
    }
    return decodeBatEntry(this.window.readBigUInt64LE((index - this.windowStart) * 8));
  }
}
