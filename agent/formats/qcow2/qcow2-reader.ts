import { realpath } from 'node:fs/promises';
import { ChainedDisk } from '../../disk/chain.js';
import type { DiskInfo, DiskSource } from '../../disk/disk-source.js';
import { RandomAccessFile } from '../../io/random-access-file.js';
import type { FormatReader, OpenOptions } from '../format-reader.js';
import { openBackingFile, type ChainState } from './backing-chain.js';
import { QCOW2_MAGIC, readQcow2Header, type Qcow2Header } from './qcow2-header.js';
import { Qcow2Disk } from './qcow2-disk.js';
import { Qcow2Image } from './qcow2-image.js';
import { throwIfAborted } from '../../core/abort.js';

/** qcow2 versions 2 and 3 (qemu docs/interop/qcow2.txt), with backing chains. */
export const qcow2Reader: FormatReader = {
  name: 'qcow2',
  probe: (input) => input.head.length >= 8 && input.head.readUInt32BE(0) === QCOW2_MAGIC,
  async open(path: string, opts: OpenOptions): Promise<DiskSource> {
    const state: ChainState = { visited: new Set([await realpath(path).catch(() => path)]), depth: 0 };
    return openQcow2Chain(path, state, opts.signal, opts.parent);
  },
};

/** Opens one qcow2 file and, recursively, what lies beneath it. */
export async function openQcow2Chain(path: string, state: ChainState, signal?: AbortSignal, explicitParent?: string): Promise<DiskSource> {
  const file = await RandomAccessFile.open(path);
  let disk: Qcow2Disk;
  let header: Qcow2Header;
  try {
    header = await readQcow2Header(file);
    const image = await Qcow2Image.load(file, header);
    disk = new Qcow2Disk(image, await describe(image, header, signal));
  } catch (err) {
    await file.close();
    throw err;
  }
  if (header.backingFile === undefined) return disk;
  try {
    const parent = await openBackingFile(path, header, explicitParent, state, (p, s, sig) => openQcow2Chain(p, s, sig), signal);
    return new ChainedDisk(disk, parent);
  } catch (err) {
    await disk.close();
    throw err;
  }
}

/** DiskInfo with allocatedBytes counted from the L2 tables (one table in memory at a time). */
async function describe(image: Qcow2Image, h: Qcow2Header, signal?: AbortSignal): Promise<DiskInfo> {
  let dataBytes = 0;
  let zeroBytes = 0;
  for await (const batch of image.pieces(signal)) {
    throwIfAborted(signal);
    for (const p of batch) {
      if (p.kind === 'data' || p.kind === 'compressed') dataBytes += p.length;
      else if (p.kind === 'zero') zeroBytes += p.length;
    }
  }
  const details: Record<string, unknown> = {
    version: h.version,
    clusterSize: h.clusterSize,
    compressionType: h.compressionType,
    extendedL2: h.extendedL2,
    refcountBits: 2 ** h.refcountOrder,
    dirty: false,
    corrupt: false,
    snapshots: h.snapshotCount,
    backingFile: h.backingFile,
    backingFormat: h.backingFormat,
    dataBytes,
    zeroBytes,
  };
  return {
    format: 'qcow2',
    subformat: `v${h.version}`,
    virtualSize: h.virtualSize,
    allocatedBytes: dataBytes + zeroBytes,
    files: [image.file.path],
    warnings: h.snapshotCount > 0 ? [`${h.snapshotCount} internal snapshot(s) ignored: the active L1 table is read`] : [],
    details,
  };
}
