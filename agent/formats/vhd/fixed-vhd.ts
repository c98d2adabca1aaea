import { throwIfAborted } from '../../core/abort.js';
import { DEFAULT_MAX_DATA_EXTENT, type DiskInfo, type DiskSource, type ExtentReadOptions } from '../../disk/disk-source.js';
import { dataExtent, type Extent } from '../../disk/extent.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';

/** VHD spec, "Fixed Hard Disk Image": the disk's bytes from offset 0, then the footer. */
export class FixedVhd implements DiskSource {

  constructor(
    private readonly file: RandomAccessFile,
    readonly virtualSize: number,
    readonly info: DiskInfo,
  ) {}

  async *extents(opts: ExtentReadOptions = {}): AsyncGenerator<Extent> {
    const max = opts.maxDataLength ?? DEFAULT_MAX_DATA_EXTENT;
    const allocate = opts.allocate ?? Buffer.allocUnsafe;
    for (let pos = 0; pos < this.virtualSize; pos += max) {
      throwIfAborted(opts.signal);
      const buf = allocate(Math.min(max, this.virtualSize - pos));
      await this.file.readInto(buf, pos, 'fixed disk data');
      yield dataExtent(pos, buf);
    }
  }

  /** Random access for the guest inspector (agent/guest/byte-source.ts): the bytes are where they are. */
  readAt(offset: number, buf: Buffer): Promise<void> {
    return this.file.readInto(buf, offset, 'fixed disk data');
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
