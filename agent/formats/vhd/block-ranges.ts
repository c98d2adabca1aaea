import { throwIfAborted } from '../../core/abort.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { UNALLOCATED_ENTRY, type BlockLayout } from './block-allocation-table.js';

/** A run of the virtual disk: stored at `fileOffset` (data) or not stored in this file (unallocated). */
export type MappedRange =
  | { kind: 'data'; offset: number; length: number; fileOffset: number }
  | { kind: 'unallocated'; offset: number; length: number };

/**
 * Walks the virtual disk block by block (VHD spec, "Block Allocation Table and Data Blocks"): a block
 * whose BAT entry is all ones is unallocated; otherwise its sector bitmap says, per sector (most
 * significant bit first), whether the sector is stored in the block (1) or not (0: zeros in a dynamic
 * disk, the parent's sector in a differencing disk). Adjacent runs of one kind are merged when their
 * bytes are contiguous in the file too.
 */
export async function* mappedRanges(file: RandomAccessFile, layout: BlockLayout, virtualSize: number, signal?: AbortSignal): AsyncGenerator<MappedRange> {
  let pending: MappedRange | undefined;
  for (let b = 0; b < layout.entries.length; b++) {
    throwIfAborted(signal);
    const run = unallocatedRun(layout, b, virtualSize);
    const ranges = run ? [run.range] : await blockRanges(file, layout, b, virtualSize);
    if (run) b = run.end - 1;
    for (const r of ranges) {
      if (pending && canMerge(pending, r)) {
        pending = { ...pending, length: pending.length + r.length };
        continue;
      }
      if (pending) yield pending;
      pending = r;
    }
  }
  if (pending) yield pending;
}

/**
 * The run of unallocated blocks starting at block `b` as one range and the block after it, or undefined
 * when `b` is allocated: an empty 127 GiB disk is 65,024 such blocks, which one by one cost a promise
 * and an object each.
 */
function unallocatedRun(layout: BlockLayout, b: number, virtualSize: number): { range: MappedRange; end: number } | undefined {
  let end = b;
  while (end < layout.entries.length && layout.entries[end] === UNALLOCATED_ENTRY) end++;
  if (end === b) return undefined;
  const offset = b * layout.blockSize;
  return { range: { kind: 'unallocated', offset, length: Math.min(end * layout.blockSize, virtualSize) - offset }, end };
}

function canMerge(a: MappedRange, b: MappedRange): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind === 'unallocated' || a.fileOffset + a.length === (b as { fileOffset: number }).fileOffset;
}

export async function blockRanges(file: RandomAccessFile, layout: BlockLayout, b: number, virtualSize: number): Promise<MappedRange[]> {
  const start = b * layout.blockSize;
  const end = Math.min(start + layout.blockSize, virtualSize);
  const entry = layout.entries[b]!;
  if (entry === UNALLOCATED_ENTRY) return [{ kind: 'unallocated', offset: start, length: end - start }];
  const sectors = Math.ceil((end - start) / 512);
  const bitmapAt = entry * 512;
  const bitmap = await file.read(bitmapAt, Math.ceil(sectors / 8), `sector bitmap of block ${b}`);
  const dataAt = bitmapAt + layout.bitmapSize;
  const out: MappedRange[] = [];
  for (const run of bitRuns(bitmap, sectors)) {
    const offset = start + run.first * 512;
    const length = Math.min(end, start + (run.first + run.count) * 512) - offset;
    out.push(run.set ? { kind: 'data', offset, length, fileOffset: dataAt + run.first * 512 } : { kind: 'unallocated', offset, length });
  }
  return out;
}

interface BitRun {
  set: boolean;
  first: number;
  count: number;
}

/** Runs of equal bits among the first `bits` bits, most significant bit of each byte first. */
export function bitRuns(bitmap: Buffer, bits: number): BitRun[] {
  const runs: BitRun[] = [];
  let i = 0;
  while (i < bits) {
    const set = bitAt(bitmap, i);
    let j = i + 1;
    while (j < bits) {
      const byte = bitmap[j >> 3]!;
      if ((j & 7) === 0 && j + 8 <= bits && byte === (set ? 0xff : 0)) {
        j += 8; // a whole byte of the same bit
        continue;
      }
      if (bitAt(bitmap, j) !== set) break;
      j++;
    }
    runs.push({ set, first: i, count: j - i });
    i = j;
  }
  return runs;
}

function bitAt(bitmap: Buffer, i: number): boolean {
  return (bitmap[i >> 3]! & (0x80 >> (i & 7))) !== 0;
}
