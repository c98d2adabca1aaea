import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import type { MappedRun } from '../../disk/mapped-runs.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { VDI } from './error-codes.js';
import type { VdiHeader } from './vdi-header.js';

/** VDICore.h: block map entries are u32 block indexes, or one of these two markers. */
export const BLOCK_FREE = 0xffffffff;
export const BLOCK_ZERO = 0xfffffffe;

const WINDOW_ENTRIES = 16384;

/**
 * The block map as runs, read through a 64 KiB window. Block i covers [i*cbBlock, ...) of the disk;
 * an entry n stores it at offData + n*(cbBlockExtra + cbBlock) + cbBlockExtra. BLOCK_FREE reads as
 * zeros (nothing stored), BLOCK_ZERO is a discarded block that reads as zeros explicitly.
 */
export async function* vdiRuns(file: RandomAccessFile, h: VdiHeader, signal?: AbortSignal): AsyncGenerator<MappedRun> {
  const used = Math.ceil(h.diskSize / h.blockSize);
  for (let first = 0; first < used; first += WINDOW_ENTRIES) {
    throwIfAborted(signal);
    const count = Math.min(WINDOW_ENTRIES, used - first);
    const window = await file.read(h.blockMapOffset + first * 4, count * 4, 'VDI block map');
    for (let i = 0; i < count; i++) yield runOf(file, h, first + i, window.readUInt32LE(i * 4));
  }
}

/** The run of block `block` alone, reading its one block map entry (random access). */
export async function blockRun(file: RandomAccessFile, h: VdiHeader, block: number): Promise<MappedRun> {
  const entry = (await file.read(h.blockMapOffset + block * 4, 4, 'VDI block map')).readUInt32LE(0);
  return runOf(file, h, block, entry);
}

function runOf(file: RandomAccessFile, h: VdiHeader, block: number, entry: number): MappedRun {
  const offset = block * h.blockSize;
  const length = Math.min(h.blockSize, h.diskSize - offset);
  if (entry === BLOCK_FREE) return { kind: 'unallocated', offset, length };
  if (entry === BLOCK_ZERO) return { kind: 'zero', offset, length };
  const fileOffset = h.dataOffset + entry * (h.blockExtra + h.blockSize) + h.blockExtra;
  if (entry >= h.blocksAllocated || fileOffset + length > file.size) {
    throw vmxError(VDI.BLOCK_PAST_EOF, `block map entry ${block} names data block ${entry} at ${fileOffset}, beyond cBlocksAllocated ${h.blocksAllocated} or past the end of the file (size ${file.size}) (VirtualBox VDICore.h)`, {
      file: file.path,
      offset: h.blockMapOffset + block * 4,
    });
  }
  return { kind: 'data', offset, length, fileOffset };
}
