import type { DiskInfo, DiskSource, ExtentReadOptions } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import { runsToExtents } from '../../disk/mapped-runs.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import type { FormatReader } from '../format-reader.js';
import { vdiRuns } from './block-map.js';
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
