import type { DiskInfo, DiskSource, ExtentReadOptions } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import type { BlockLayout } from './block-allocation-table.js';
import { mappedRanges } from './block-ranges.js';
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

  close(): Promise<void> {
    return this.file.close();
  }
}
