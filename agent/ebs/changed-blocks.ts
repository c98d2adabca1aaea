import type { ChangedExtentList } from '../incremental/changed-blocks/extent-list.js';
import type { RandomReader } from '../incremental/random-reader.js';
import { EBS_BLOCK, type DiskBlock } from './disk-blocks.js';

const ZERO = Buffer.alloc(EBS_BLOCK);

/** The 512 KiB block indexes the list's extents touch, ascending, each once (the extents are sorted and merged). */
export function* changedBlockIndexes(list: ChangedExtentList): Generator<number> {
  let last = -1;
  for (const e of list.extents) {
    const first = Math.max(last + 1, Math.floor(e.offset / EBS_BLOCK));
    const end = Math.floor((e.offset + e.length - 1) / EBS_BLOCK);
    for (let i = first; i <= end; i++) yield i;
    last = Math.max(last, end);
  }
}

/**
 * An incremental snapshot's blocks from a change list: only the blocks the list touches are read
 * (the child inherits every other block from its parent), in index order; one that reads as zeros
 * is a zero block (written only where the parent holds data). The disk's last block is padded with zeros.
 */
export async function* changedDiskBlocks(reader: RandomReader, list: ChangedExtentList, counts: { blocksRead: number }, signal?: AbortSignal): AsyncGenerator<DiskBlock> {
  for (const index of changedBlockIndexes(list)) {
    signal?.throwIfAborted();
    const start = index * EBS_BLOCK;
    const length = Math.min(EBS_BLOCK, reader.size - start);
    const read = await reader.read(start, length, `block ${index}`);
    counts.blocksRead++;
    const data = length === EBS_BLOCK ? read : Buffer.concat([read, ZERO.subarray(length)]);
    yield data.equals(ZERO) ? { kind: 'zero', index, count: 1 } : { kind: 'data', index, data };
  }
}
