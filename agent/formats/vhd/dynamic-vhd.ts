import type { DiskInfo, DiskSource, ExtentReadOptions } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import type { BlockLayout } from './block-allocation-table.js';
import { blockRanges, mappedRanges } from './block-ranges.js';
import { rangesToExtents } from './range-extents.js';

/**
 * A dynamic or differencing VHD on its own: what this file stores. Unallocated extents read as zeros
 * for a dynamic disk; a differencing disk is wrapped in a ChainedDisk so they read from the parent.
 */
export class DynamicVhd implements DiskSource {

  constructor(
    private readonly file: RandomAccessFile,
    private readonly layout: BlockLayout,
    readonly virtualSize: number,
    readonly info: DiskInfo,
  ) {}

  extents(opts: ExtentReadOptions = {}): AsyncIterable<Extent> {
    return rangesToExtents(this.file, mappedRanges(this.file, this.layout, this.virtualSize, opts.signal), opts);
  }

  /**
   * Random access for the guest inspector (agent/guest/byte-source.ts): each block's BAT entry and
   * sector bitmap, as mappedRanges reads them; sectors not stored read as zeros (a parent is
   * ChainedDisk's business, which has no random access).
   */
  async readAt(offset: number, buf: Buffer): Promise<void> {
    const end = offset + buf.length;
    const size = this.layout.blockSize;
    for (let b = Math.floor(offset / size); b * size < end; b++) {
      if (b >= this.layout.entries.length) {
        buf.subarray(Math.max(0, b * size - offset)).fill(0);
        break;
      }
      for (const r of await blockRanges(this.file, this.layout, b, this.virtualSize)) {
        const from = Math.max(offset, r.offset);
        const to = Math.min(end, r.offset + r.length);
        if (from >= to) continue;
        const dst = buf.subarray(from - offset, to - offset);
        if (r.kind === 'data') await this.file.readInto(dst, r.fileOffset + (from - r.offset), 'data block');
        else dst.fill(0);
      }
    }
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
