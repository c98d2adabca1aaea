import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { VHD } from './error-codes.js';
import { FOOTER_SIZE } from './footer.js';
import { HEADER_SIZE, type DynamicHeader } from './dynamic-header.js';

/** VHD spec, "Block Allocation Table and Data Blocks": an entry of all ones means "block not allocated". */
export const UNALLOCATED_ENTRY = 0xffffffff;
const MIN_BLOCK = 512;
const MAX_BLOCK = 256 * 1024 * 1024;
/** 16 Mi entries (64 MiB of table): 32 TiB at the default 2 MiB blocks, far beyond VHD's 2040 GiB. */
const MAX_ENTRIES = 16 * 1024 * 1024;

/** Where a dynamic disk's blocks are: the table plus what is needed to find a sector in a block. */
export interface BlockLayout {
  blockSize: number;
  /** Bytes of the sector bitmap before each block's data: one bit per sector, padded to a sector. */
  bitmapSize: number;
  /** One entry per block of the virtual disk (sector offsets of the blocks' bitmaps). */
  entries: Uint32Array;
  tableOffset: number;
}

/** A byte range of the file that blocks must not overlap, with its name for error messages. */
export interface ReservedRange {
  name: string;
  start: number;
  end: number;
}

export function bitmapBytes(blockSize: number): number {
  return Math.ceil(blockSize / 512 / 8 / 512) * 512;
}

/** Reads the BAT and checks that every allocated block lies inside the file and clear of the metadata. */
export async function loadBlockLayout(
  file: RandomAccessFile,
  header: DynamicHeader,
  headerOffset: number,
  virtualSize: number,
  extraReserved: ReservedRange[],
): Promise<BlockLayout> {
  const blockSize = checkBlockSize(header.blockSize, file.path, headerOffset);
  const tableOffset = checkTable(header, file, headerOffset, virtualSize, blockSize);
  const count = Math.ceil(virtualSize / blockSize);
  const raw = count > 0 ? await file.read(tableOffset, count * 4, 'block allocation table') : Buffer.alloc(0);
  const entries = new Uint32Array(count);
  for (let i = 0; i < count; i++) entries[i] = raw.readUInt32BE(i * 4);
  const layout: BlockLayout = { blockSize, bitmapSize: bitmapBytes(blockSize), entries, tableOffset };
  const reserved: ReservedRange[] = [
    { name: 'the footer copy', start: 0, end: FOOTER_SIZE },
    { name: 'the dynamic disk header', start: headerOffset, end: headerOffset + HEADER_SIZE },
    { name: 'the block allocation table', start: tableOffset, end: tableOffset + Math.ceil((header.maxTableEntries * 4) / 512) * 512 },
    ...extraReserved,
  ];
  checkBlocks(layout, file, reserved);
  return layout;
}

function checkBlockSize(blockSize: number, file: string, headerOffset: number): number {
  const pow2 = blockSize > 0 && (blockSize & (blockSize - 1)) === 0;
  if (!pow2 || blockSize < MIN_BLOCK || blockSize > MAX_BLOCK) {
    throw vmxError(VHD.BAD_BLOCK_SIZE, `dynamic disk header Block Size ${blockSize} is not a power of two between ${MIN_BLOCK} bytes and ${MAX_BLOCK / 1024 / 1024} MiB`, { file, offset: headerOffset + 32 });
  }
  return blockSize;
}

function checkTable(header: DynamicHeader, file: RandomAccessFile, headerOffset: number, virtualSize: number, blockSize: number): number {
  const needed = Math.ceil(virtualSize / blockSize);
  const where = { file: file.path, offset: headerOffset + 28 };
  if (header.maxTableEntries < needed) {
    throw vmxError(VHD.BAD_BAT, `Max Table Entries ${header.maxTableEntries} cannot cover a ${virtualSize}-byte disk in ${blockSize}-byte blocks (needs ${needed})`, where);
  }
  if (needed > MAX_ENTRIES) {
    throw vmxError(VHD.BAD_BAT, `a ${virtualSize}-byte disk in ${blockSize}-byte blocks needs ${needed} BAT entries, more than the ${MAX_ENTRIES} vmxfer accepts (absurd block size for the disk)`, where);
  }
  const offset = header.tableOffset;
  const end = offset === undefined ? Infinity : offset + header.maxTableEntries * 4;
  if (offset === undefined || offset < FOOTER_SIZE || end > file.size - FOOTER_SIZE) {
    throw vmxError(VHD.BAD_BAT, `the block allocation table (Table Offset ${offset ?? 'beyond 2^53'}, ${header.maxTableEntries} entries) does not lie between the footer copy and the trailing footer of this ${file.size}-byte file`, { file: file.path, offset: headerOffset + 16 });
  }
  return offset;
}

function checkBlocks(layout: BlockLayout, file: RandomAccessFile, reserved: ReservedRange[]): void {
  const span = layout.bitmapSize + layout.blockSize;
  const limit = file.size - FOOTER_SIZE;
  const starts = new Float64Array(layout.entries.length);
  let allocated = 0;
  for (let i = 0; i < layout.entries.length; i++) {
    const entry = layout.entries[i]!;
    if (entry === UNALLOCATED_ENTRY) continue;
    const start = entry * 512;
    const where = { file: file.path, offset: layout.tableOffset + i * 4 };
    if (start + span > limit) {
      throw vmxError(VHD.BAT_ENTRY_PAST_EOF, `BAT entry ${i} puts block ${i} (bitmap and data, ${span} bytes) at file offset ${start}, past the trailing footer at ${limit}`, where);
    }
    const hit = reserved.find((r) => start < r.end && r.start < start + span);
    if (hit) {
      throw vmxError(VHD.BAT_ENTRY_OVERLAP, `BAT entry ${i} puts block ${i} at file offset ${start}..${start + span}, overlapping ${hit.name} (${hit.start}..${hit.end})`, where);
    }
    starts[allocated++] = start;
  }
  checkBlocksDisjoint(starts.subarray(0, allocated), span, file.path, layout.tableOffset);
}

function checkBlocksDisjoint(starts: Float64Array, span: number, file: string, tableOffset: number): void {
  const sorted = starts.sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]! < sorted[i - 1]! + span) {
      throw vmxError(VHD.BAT_ENTRY_OVERLAP, `two BAT entries put blocks at file offsets ${sorted[i - 1]} and ${sorted[i]}, which overlap (each block takes ${span} bytes)`, { file, offset: tableOffset });
    }
  }
}
