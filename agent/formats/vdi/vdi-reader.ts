import type { DiskInfo, DiskSource, ExtentReadOptions } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import { runsToExtents } from '../../disk/mapped-runs.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import type { FormatReader } from '../format-reader.js';
import { blockRun, vdiRuns } from './block-map.js';
import { IMAGE_TYPE, readVdiHeader, VDI_SIGNATURE, type VdiHeader } from './vdi-header.js';

/** A VirtualBox VDI image (dynamic or static) as a DiskSource. */
export class VdiDisk implements DiskSource {

  constructor(
    private readonly file: RandomAccessFile,
    private readonly header: VdiHeader,
    readonly info: DiskInfo,
  ) {}

  get virtualSize(): number {
    return this.header.diskSize;
  }

  extents(opts: ExtentReadOptions = {}): AsyncIterable<Extent> {
    const read = (fileOffset: number, buf: Buffer) => this.file.readInto(buf, fileOffset, 'VDI data block');
    return runsToExtents(vdiRuns(this.file, this.header, opts.signal), read, opts);
  }

  /** Random access for the guest inspector (agent/guest/byte-source.ts): one block map entry per block. */
  async readAt(offset: number, buf: Buffer): Promise<void> {
    const end = offset + buf.length;
    const size = this.header.blockSize;
    for (let b = Math.floor(offset / size); b * size < end; b++) {
      if (b * size >= this.header.diskSize) {
        buf.subarray(Math.max(0, b * size - offset)).fill(0);
        break;
      }
      const r = await blockRun(this.file, this.header, b);
      const from = Math.max(offset, r.offset);
      const to = Math.min(end, r.offset + r.length);
      if (from >= to) continue;
      const dst = buf.subarray(from - offset, to - offset);
      if (r.kind === 'data') await this.file.readInto(dst, r.fileOffset! + (from - r.offset), 'VDI data block');
      else dst.fill(0);
    }
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

export const vdiReader: FormatReader = {
  name: 'vdi',
  probe: (input) => input.head.length >= 72 && input.head.readUInt32LE(64) === VDI_SIGNATURE,
  async open(path, opts) {
    const file = await RandomAccessFile.open(path);
    try {
      const header = await readVdiHeader(file);
      const info = await describe(file, header, opts.signal);
      return new VdiDisk(file, header, info);
    } catch (err) {
      await file.close();
      throw err;
    }
  },
};

/** Walks the whole block map once, so a bad entry fails the open rather than the copy. */
async function describe(file: RandomAccessFile, h: VdiHeader, signal?: AbortSignal): Promise<DiskInfo> {
  let allocatedBytes = 0;
  let discardedBlocks = 0;
  for await (const run of vdiRuns(file, h, signal)) {
    if (run.kind === 'data') allocatedBytes += run.length;
    if (run.kind === 'zero') discardedBlocks++;
  }
  return {
    format: 'vdi',
    subformat: h.imageType === IMAGE_TYPE.STATIC ? 'static' : 'dynamic',
    virtualSize: h.diskSize,
    allocatedBytes,
    files: [file.path],
    warnings: [],
    details: {
      version: h.version,
      blockSize: h.blockSize,
      blockExtra: h.blockExtra,
      sectorSize: h.sectorSize,
      blocks: h.blocks,
      blocksAllocated: h.blocksAllocated,
      discardedBlocks,
      uuid: h.uuid,
      ...(h.comment ? { comment: h.comment } : {}),
    },
  };
}
