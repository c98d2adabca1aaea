import { DEFAULT_MAX_DATA_EXTENT, type DiskInfo, type DiskSource, type ExtentReadOptions } from '../../disk/disk-source.js';
import { dataExtent, type Extent, type ExtentRange } from '../../disk/extent.js';
import { throwIfAborted } from '../../core/abort.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import type { FormatReader } from '../format-reader.js';

/** A raw image: every byte is data; zero detection is the writer's business. */
export class RawDisk implements DiskSource {
  readonly allocationExact = false;
  readonly info: DiskInfo;

  constructor(private readonly file: RandomAccessFile) {
    this.info = { format: 'raw', virtualSize: file.size, allocatedBytes: file.size, files: [file.path], warnings: [] };
  }

  get virtualSize(): number {
    return this.file.size;
  }

  async *extents(opts: ExtentReadOptions = {}): AsyncGenerator<Extent> {
    const max = opts.maxDataLength ?? DEFAULT_MAX_DATA_EXTENT;
    const allocate = opts.allocate ?? Buffer.allocUnsafe;
    for (let pos = 0; pos < this.file.size; pos += max) {
      throwIfAborted(opts.signal);
      const buf = allocate(Math.min(max, this.file.size - pos));
      await this.file.readInto(buf, pos);
      yield dataExtent(pos, buf);
    }
  }

  async *allocation(): AsyncGenerator<ExtentRange> {
    if (this.file.size > 0) yield { kind: 'data', offset: 0, length: this.file.size };
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

export const rawReader: FormatReader = {
  name: 'raw',
  probe: () => true,
  async open(path) {
    return new RawDisk(await RandomAccessFile.open(path));
  },
};
