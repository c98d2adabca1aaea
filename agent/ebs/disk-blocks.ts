import type { DiskSource } from '../disk/disk-source.js';

/** EBS direct APIs: "A block index is a logical index in units of 512 KiB blocks" (PutSnapshotBlock). */
export const EBS_BLOCK = 512 * 1024;

/** A block holding data, or a run of blocks that read as zero. */
export type DiskBlock = { kind: 'data'; index: number; data: Buffer } | { kind: 'zero'; index: number; count: number };

const ZERO = Buffer.alloc(EBS_BLOCK);

/**
 * The source's 512 KiB blocks in index order. Only the data extents the image stores are read; zero
 * and unallocated extents become zero runs without a byte touched; a data block that holds only zeros
 * is a zero block too. The last block, when the disk does not end on a block boundary, is padded with
 * zeros (the volume reads as zero past the source's end). Each data block's buffer is the consumer's.
 */
export async function* diskBlocks(source: DiskSource, signal?: AbortSignal): AsyncGenerator<DiskBlock> {
  let block: Buffer | undefined;
  let zeroFrom = 0;
  let zeroCount = 0;
  const out: DiskBlock[] = [];
  const finish = (index: number) => {
    if (block && !block.equals(ZERO)) {
      if (zeroCount > 0) out.push({ kind: 'zero', index: zeroFrom, count: zeroCount });
      out.push({ kind: 'data', index, data: block });
      zeroCount = 0;
    } else if (zeroCount === 0) {
      zeroFrom = index;
      zeroCount = 1;
    } else zeroCount++;
    block = undefined;
  };
  for await (const e of source.extents({ signal, maxDataLength: 4 * 1024 * 1024 })) {
    let at = e.offset;
    const end = e.offset + e.length;
    while (at < end) {
      const index = Math.floor(at / EBS_BLOCK);
      const blockEnd = (index + 1) * EBS_BLOCK;
      if (e.kind !== 'data' && block === undefined && at % EBS_BLOCK === 0 && end >= blockEnd) {
        // Whole blocks of a hole: one run, however long.
        const whole = Math.floor((end - at) / EBS_BLOCK);
        if (zeroCount === 0) zeroFrom = index;
        zeroCount += whole;
        at += whole * EBS_BLOCK;
        continue;
      }
      const stop = Math.min(end, blockEnd);
      if (e.kind === 'data') {
        block ??= Buffer.alloc(EBS_BLOCK);
        e.data.copy(block, at - index * EBS_BLOCK, at - e.offset, stop - e.offset);
      }
      at = stop;
      if (at === blockEnd) finish(index);
    }
    yield* out.splice(0);
  }
  if (source.virtualSize % EBS_BLOCK !== 0) finish(Math.floor(source.virtualSize / EBS_BLOCK));
  if (zeroCount > 0) out.push({ kind: 'zero', index: zeroFrom, count: zeroCount });
  yield* out.splice(0);
}
