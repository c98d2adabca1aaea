import type { DiskInfo, DiskSource, ExtentReadOptions } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import { runsToExtents } from '../../disk/mapped-runs.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { blockRuns, type BlockMap } from './block-runs.js';

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

  close(): Promise<void> {
    return this.file.close();
  }
}
