import type { DiskInfo, DiskSource, ExtentReadOptions } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import { runsToExtents, type MappedRun } from '../../disk/mapped-runs.js';
import { throwIfAborted } from '../../core/abort.js';
import { fileDataRanges } from '../../io/file-data-ranges.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import type { FormatReader } from '../format-reader.js';

/**
 * A raw image: its bytes are the disk. Holes of a sparse file (lseek SEEK_DATA/SEEK_HOLE, when the
 * native addon is built) are unallocated extents that are never read, as qemu-img skips them; every
 * stored byte is data, zeros included (zero detection is the writer's business).
 */
export class RawDisk implements DiskSource {
  readonly info: DiskInfo;

  constructor(private readonly file: RandomAccessFile) {
    this.info = { format: 'raw', virtualSize: file.size, allocatedBytes: this.storedBytes(), files: [file.path], warnings: [] };
  }

  get virtualSize(): number {
    return this.file.size;
  }

  extents(opts: ExtentReadOptions = {}): AsyncGenerator<Extent> {
    return runsToExtents(this.runs(opts.signal), (at, buf) => this.file.readInto(buf, at), opts);
  }

  /** The file as runs: data where the file stores bytes, unallocated over its holes. */
  private async *runs(signal?: AbortSignal): AsyncGenerator<MappedRun> {
    let pos = 0;
    for (const r of fileDataRanges(this.file.fd, this.file.size)) {
      throwIfAborted(signal);
      if (r.offset > pos) yield { kind: 'unallocated', offset: pos, length: r.offset - pos };
      yield { kind: 'data', offset: r.offset, length: r.length, fileOffset: r.offset };
      pos = r.offset + r.length;
    }
    if (pos < this.file.size) yield { kind: 'unallocated', offset: pos, length: this.file.size - pos };
  }

  private storedBytes(): number {
    let n = 0;
    for (const r of fileDataRanges(this.file.fd, this.file.size)) n += r.length;
    return n;
  }

  /** Random access for the guest inspector (agent/guest/byte-source.ts): a raw file is the disk. */
  readAt(offset: number, buf: Buffer): Promise<void> {
    return this.file.readInto(buf, offset);
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
