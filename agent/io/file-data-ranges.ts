import { sparseFileAddon, type SparseFileAddon } from './sparse-file-addon.js';

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * The ranges of [0, size) that hold data in the file behind `fd`, in order; the gaps are holes that
 * read as zeros without being stored. Found with lseek SEEK_DATA/SEEK_HOLE one range at a time, so
 * memory stays constant however fragmented the file is. Without the addon, or where the file system
 * or file type does not support it, the whole rest of the file is one data range: reading it is
 * slower but never wrong.
 */
export function* fileDataRanges(fd: number, size: number, addon: SparseFileAddon | null = sparseFileAddon()): Generator<ByteRange> {
  let pos = 0;
  while (pos < size) {
    const found = seekRange(addon, fd, pos, size);
    if (!found) return;
    yield found;
    pos = found.offset + found.length;
  }
}

function seekRange(addon: SparseFileAddon | null, fd: number, pos: number, size: number): ByteRange | undefined {
  if (!addon) return { offset: pos, length: size - pos };
  try {
    const start = addon.nextData(fd, pos);
    if (start < 0 || start >= size) return undefined;
    const end = Math.min(size, addon.nextHole(fd, start));
    return end > start ? { offset: start, length: end - start } : { offset: start, length: size - start };
  } catch {
    return { offset: pos, length: size - pos };
  }
}
