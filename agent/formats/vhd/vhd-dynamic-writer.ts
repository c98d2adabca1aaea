import { throwIfAborted } from '../../core/abort.js';
import { alignUp, MiB } from '../../core/units.js';
import type { DiskSource } from '../../disk/disk-source.js';
import { sliceExtent, type Extent } from '../../disk/extent.js';
import { isZero } from '../../io/file-output.js';
import type { DiskWriter, HeadPatch, WriteOptions, WriterOutput } from '../format-writer.js';
import { bitmapBytes } from './block-allocation-table.js';
import { encodeDynamicHeader, HEADER_SIZE } from './dynamic-header.js';
import { encodeFooter, FOOTER_SIZE } from './footer.js';
import { chsForSectors } from './geometry.js';
import { checkVhdSize, extentBytes, zeroBytes } from './writer-common.js';

const BLOCK_SIZE = 2 * MiB;
const BITMAP_SIZE = bitmapBytes(BLOCK_SIZE);
const TABLE_OFFSET = FOOTER_SIZE + HEADER_SIZE;

/** Where everything goes, from the disk size alone. */
interface DynamicPlan {
  size: number;
  blocks: number;
  tableBytes: number;
  dataStart: number;
}

function plan(source: DiskSource): DynamicPlan {
  const size = alignUp(source.virtualSize, 512);
  const blocks = Math.ceil(size / BLOCK_SIZE);
  const tableBytes = alignUp(blocks * 4, 512);
  return { size, blocks, tableBytes, dataStart: TABLE_OFFSET + tableBytes };
}

/**
 * VHD spec, "Dynamic Hard Disk Image": footer copy, dynamic disk header, BAT, then 2 MiB blocks (a
 * sector bitmap padded to 512 bytes, all sectors marked present, then the block's data) for blocks
 * holding any non-zero byte, then the footer. The BAT precedes the data but depends on which blocks
 * are all zero, so it is written as a placeholder and sent as a HeadPatch once every block is out:
 * one read pass over any source (a pre-pass would read raw sources twice to find zero blocks), and
 * the patched head is small (4 bytes per 2 MiB: 4 MiB for the largest VHD).
 */
export const vhdDynamicWriter: DiskWriter = {
  target: 'vhd',
  encoder: { writer: 'vhd-dynamic/1' },
  patchableHead: (source) => plan(source).dataStart,
  maxOutputSize: (source) => {
    const p = plan(source);
    return p.dataStart + p.blocks * (BITMAP_SIZE + BLOCK_SIZE) + FOOTER_SIZE;
  },
  write: writeDynamic,
};

async function* writeDynamic(source: DiskSource, opts: WriteOptions = {}): AsyncGenerator<WriterOutput> {
  const p = plan(source);
  checkVhdSize(p.size, source);
  const footer = encodeFooter({ diskType: 'dynamic', size: p.size, geometry: chsForSectors(p.size / 512), dataOffset: FOOTER_SIZE, identity: opts.identity });
  const bat = Buffer.alloc(p.tableBytes, 0xff);
  yield Buffer.from(footer);
  yield encodeDynamicHeader(TABLE_OFFSET, p.blocks, BLOCK_SIZE);
  yield Buffer.from(bat);
  let next = p.dataStart;
  let allocated = 0;
  for await (const block of sourceBlocks(source, p, opts.signal)) {
    if (!block.pieces.some((e) => e.kind === 'data' && !isZero(e.data))) continue;
    bat.writeUInt32BE(next / 512, block.index * 4);
    yield Buffer.alloc(BITMAP_SIZE, 0xff);
    for (const e of block.pieces) yield* extentBytes(e);
    yield* zeroBytes(block.padding);
    next += BITMAP_SIZE + BLOCK_SIZE;
    allocated++;
  }
  yield footer;
  // With no block allocated the placeholder (all entries 0xFFFFFFFF) is already the final BAT.
  if (allocated > 0) yield { kind: 'head-patch', offset: TABLE_OFFSET, data: bat } satisfies HeadPatch;
}

interface SourceBlock {
  index: number;
  /** The source's extents within the block, in order (data as views of the source's buffers). */
  pieces: Extent[];
  /** Zeros after the pieces to fill the block: past the end of the source. */
  padding: number;
}

/** Groups the source's extents into 2 MiB blocks; memory is one block's worth of extents. */
async function* sourceBlocks(source: DiskSource, p: DynamicPlan, signal?: AbortSignal): AsyncGenerator<SourceBlock> {
  let index = 0;
  let pieces: Extent[] = [];
  for await (const e of source.extents({ signal })) {
    throwIfAborted(signal);
    let pos = e.offset;
    const end = e.offset + e.length;
    while (pos < end) {
      const blockEnd = (index + 1) * BLOCK_SIZE;
      const cut = Math.min(end, blockEnd);
      pieces.push(sliceExtent(e, pos, cut));
      pos = cut;
      if (cut === blockEnd) {
        yield { index, pieces, padding: 0 };
        pieces = [];
        index++;
      }
    }
  }
  if (index < p.blocks) yield { index, pieces, padding: BLOCK_SIZE - (source.virtualSize - index * BLOCK_SIZE) };
}
