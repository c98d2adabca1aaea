import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import type { MappedRun } from '../../disk/mapped-runs.js';
import { bitmapEntryIndex, payloadEntryIndex, PayloadState, SB_BLOCK_PRESENT, type BatGeometry, type BatReader } from './bat.js';
import { VHDX } from './error-codes.js';
import type { ImageBytes } from './image-bytes.js';
import { SECTOR_BITMAP_BLOCK_SIZE } from './layout.js';
import type { VhdxMetadata } from './metadata.js';
import type { Region } from './region-table.js';

/** What block-to-run translation needs: the bytes, the BAT, and the areas no block may occupy. */
export interface BlockMap {
  readonly image: ImageBytes;
  readonly bat: BatReader;
  readonly geometry: BatGeometry;
  readonly meta: VhdxMetadata;
  /** Header section, log, BAT and metadata regions: payload and bitmap blocks must avoid them (§2.1). */
  readonly reserved: readonly (Region & { name: string })[];
}

/** Every payload block of the disk as runs, in virtual order. */
export async function* blockRuns(map: BlockMap, signal?: AbortSignal): AsyncGenerator<MappedRun> {
  for (let b = 0; b < map.geometry.dataBlocks; b++) {
    throwIfAborted(signal);
    yield* runsOfBlock(map, b);
  }
}

/**
 * §2.5.1.1: FULLY_PRESENT blocks are read from FileOffsetMB; ZERO blocks read as zeros and hide a
 * parent; NOT_PRESENT, UNDEFINED and UNMAPPED blocks store nothing (zeros, or the parent's data in a
 * differencing disk); PARTIALLY_PRESENT is valid only in a differencing disk, where the sector bitmap
 * says sector by sector whether this file or the parent holds the data.
 */
export async function* runsOfBlock(map: BlockMap, b: number): AsyncGenerator<MappedRun> {
  const { blockSize } = map.geometry;
  const offset = b * blockSize;
  const length = Math.min(blockSize, map.meta.virtualSize - offset);
  const index = payloadEntryIndex(b, map.geometry);
  const e = await map.bat.entry(index);
  switch (e.state) {
    case PayloadState.FULLY_PRESENT:
      checkPlacement(map, e.fileOffset, length, index, 'payload block');
      yield { kind: 'data', offset, length, fileOffset: e.fileOffset };
      return;
    case PayloadState.ZERO:
      yield { kind: 'zero', offset, length };
      return;
    case PayloadState.NOT_PRESENT:
    case PayloadState.UNDEFINED:
    case PayloadState.UNMAPPED:
    case PayloadState.UNMAPPED_V1:
      yield { kind: 'unallocated', offset, length };
      return;
    case PayloadState.PARTIALLY_PRESENT:
      if (!map.meta.hasParent) throw badEntry(map, index, 'is PARTIALLY_PRESENT in a disk without a parent (valid only in differencing disks)');
      checkPlacement(map, e.fileOffset, length, index, 'payload block');
      yield* partialRuns(map, b, offset, length, e.fileOffset);
      return;
    default:
      throw badEntry(map, index, `has the reserved payload state ${e.state}`);
  }
}

/** §2.5: bit n of a sector bitmap block (LSB first) is set when virtual sector n is in this file. */
async function* partialRuns(map: BlockMap, b: number, offset: number, length: number, fileOffset: number): AsyncGenerator<MappedRun> {
  const sector = map.meta.logicalSectorSize;
  const bitmap = await blockBitmap(map, b, length / sector);
  let runStart = 0;
  for (let s = 1; s <= length / sector; s++) {
    const prev = bitSet(bitmap, s - 1);
    if (s < length / sector && bitSet(bitmap, s) === prev) continue;
    const at = runStart * sector;
    const len = (s - runStart) * sector;
    yield prev ? { kind: 'data', offset: offset + at, length: len, fileOffset: fileOffset + at } : { kind: 'unallocated', offset: offset + at, length: len };
    runStart = s;
  }
}

function bitSet(bitmap: Buffer, n: number): boolean {
  return (bitmap[n >> 3]! & (1 << (n & 7))) !== 0;
}

/** The slice of the chunk's sector bitmap block that covers payload block `b`. */
async function blockBitmap(map: BlockMap, b: number, sectors: number): Promise<Buffer> {
  const index = bitmapEntryIndex(b, map.geometry);
  const e = await map.bat.entry(index);
  if (e.state !== SB_BLOCK_PRESENT) throw badEntry(map, index, `is sector bitmap state ${e.state}, but a PARTIALLY_PRESENT block of its chunk needs SB_BLOCK_PRESENT (6)`);
  checkPlacement(map, e.fileOffset, SECTOR_BITMAP_BLOCK_SIZE, index, 'sector bitmap block');
  const sectorsPerBlock = map.geometry.blockSize / map.meta.logicalSectorSize;
  const firstBit = (b % map.geometry.chunkRatio) * sectorsPerBlock;
  return map.image.read(e.fileOffset + firstBit / 8, Math.ceil(sectors / 8), 'VHDX sector bitmap');
}

function checkPlacement(map: BlockMap, fileOffset: number, length: number, index: number, what: string): void {
  const where = { file: map.image.path, offset: map.bat.entryOffset(index) };
  if (fileOffset + length > map.image.size) {
    throw vmxError(VHDX.BAT_ENTRY_PAST_EOF, `BAT entry ${index} places a ${what} at ${fileOffset}..${fileOffset + length}, past the end of the file (size ${map.image.size}) (MS-VHDX §2.5.1)`, where);
  }
  const hit = map.reserved.find((r) => fileOffset < r.fileOffset + r.length && r.fileOffset < fileOffset + length);
  if (hit) {
    throw vmxError(VHDX.BAT_ENTRY_OVERLAPS_METADATA, `BAT entry ${index} places a ${what} at ${fileOffset}, inside the ${hit.name} (${hit.fileOffset}..${hit.fileOffset + hit.length}) (MS-VHDX §2.1)`, where);
  }
}

function badEntry(map: BlockMap, index: number, rule: string) {
  return vmxError(VHDX.BAD_BAT_ENTRY, `BAT entry ${index} ${rule} (MS-VHDX §2.5.1)`, { file: map.image.path, offset: map.bat.entryOffset(index) });
}
