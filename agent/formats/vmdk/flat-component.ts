import { dataExtent, type Extent } from '../../disk/extent.js';
import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import type { ComponentReadOptions, VmdkComponent } from './component.js';
import { VMDK } from './error-codes.js';
import { SECTOR } from './sparse-header.js';

/** A FLAT or VMFS extent (VMDK 5.0 §"Simple Extents"): the sectors as they are, from `offsetSectors` on. */
export class FlatComponent implements VmdkComponent {
  private readonly start: number;

  constructor(
    private readonly file: RandomAccessFile,
    readonly size: number,
    offsetSectors: number,
  ) {
    this.start = offsetSectors * SECTOR;
    if (file.size < this.start + size) {
      throw vmxError(VMDK.EXTENT_TOO_SMALL, `flat extent needs ${this.start + size} bytes (offset ${this.start} + size ${size}) but the file has ${file.size}`, { file: file.path, offset: file.size });
    }
  }

  get allocatedBytes(): number {
    return this.size;
  }

  async *extents(opts: ComponentReadOptions): AsyncGenerator<Extent> {
    for (let pos = 0; pos < this.size; pos += opts.maxDataLength) {
      throwIfAborted(opts.signal);
      const buf = opts.allocate(Math.min(opts.maxDataLength, this.size - pos));
      await this.file.readInto(buf, this.start + pos, 'flat extent data');
      yield dataExtent(pos, buf);
    }
  }

  readAt(offset: number, buf: Buffer): Promise<void> {
    return this.file.readInto(buf, this.start + offset, 'flat extent data');
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
