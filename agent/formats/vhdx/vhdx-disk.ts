import type { DiskInfo, DiskSource, ExtentReadOptions } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import { runsToExtents } from '../../disk/mapped-runs.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { blockRuns, runsOfBlock, type BlockMap } from './block-runs.js';

/**
 * One VHDX file as a DiskSource: the BAT, read through a bounded window, maps each payload block to
 * runs; contiguous data runs are read in one go. A differencing VHDX is wrapped in ChainedDisk by the
 * reader, so here unallocated simply means "not in this file".
 */
export class VhdxDisk implements DiskSource {

  constructor(
    private readonly file: RandomAccessFile,
    private readonly map: BlockMap,
    readonly info: DiskInfo,
  ) {}

  get virtualSize(): number {
    return this.map.meta.virtualSize;
  }

  extents(opts: ExtentReadOptions = {}): AsyncIterable<Extent> {
    const read = (fileOffset: number, buf: Buffer) => this.map.image.readInto(buf, fileOffset, 'VHDX payload block');
    return runsToExtents(blockRuns(this.map, opts.signal), read, opts);
  }

  /**
   * Random access for the guest inspector (agent/guest/byte-source.ts): each payload block's runs,
   * through the log-replayed image bytes; zero and unallocated runs read as zeros (a parent is
   * ChainedDisk's business, which has no random access).
   */
  async readAt(offset: number, buf: Buffer): Promise<void> {
    const end = offset + buf.length;
    const size = this.map.geometry.blockSize;
    for (let b = Math.floor(offset / size); b * size < end; b++) {
      for await (const r of runsOfBlock(this.map, b)) {
        const from = Math.max(offset, r.offset);
        const to = Math.min(end, r.offset + r.length);
        if (from >= to) continue;
        const dst = buf.subarray(from - offset, to - offset);
        if (r.kind === 'data') await this.map.image.readInto(dst, r.fileOffset! + (from - r.offset), 'VHDX payload block');
        else dst.fill(0);
      }
    }
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
