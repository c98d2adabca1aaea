import { throwIfAborted } from '../../core/abort.js';
import { DEFAULT_MAX_DATA_EXTENT, type ExtentReadOptions } from '../../disk/disk-source.js';
import { dataExtent, emptyExtent, type Extent } from '../../disk/extent.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import type { MappedRange } from './block-ranges.js';

type DataRange = Extract<MappedRange, { kind: 'data' }>;

/**
 * Turns mapped ranges into extents: adjacent unallocated ranges become one extent, adjacent data
 * ranges (stored in different blocks, so not contiguous in the file) are read into one buffer of at
 * most `maxDataLength` bytes.
 */
export async function* rangesToExtents(file: RandomAccessFile, ranges: AsyncIterable<MappedRange>, opts: ExtentReadOptions): AsyncGenerator<Extent> {
  const max = opts.maxDataLength ?? DEFAULT_MAX_DATA_EXTENT;
  const allocate = opts.allocate ?? Buffer.allocUnsafe;
  let pieces: DataRange[] = [];
  let pieceBytes = 0;
  let hole: { offset: number; length: number } | undefined;
  const flushData = async (): Promise<Extent | undefined> => {
    if (pieceBytes === 0) return undefined;
    const buf = allocate(pieceBytes);
    let at = 0;
    for (const p of pieces) {
      await file.readInto(buf.subarray(at, at + p.length), p.fileOffset, 'data block');
      at += p.length;
    }
    const e = dataExtent(pieces[0]!.offset, buf);
    pieces = [];
    pieceBytes = 0;
    return e;
  };
  for await (const r of ranges) {
    throwIfAborted(opts.signal);
    if (r.kind === 'unallocated') {
      const e = await flushData();
      if (e) yield e;
      hole = hole ? { offset: hole.offset, length: hole.length + r.length } : { offset: r.offset, length: r.length };
      continue;
    }
    if (hole) {
      yield emptyExtent('unallocated', hole.offset, hole.length);
      hole = undefined;
    }
    for (let done = 0; done < r.length; ) {
      const n = Math.min(r.length - done, max - pieceBytes);
      pieces.push({ kind: 'data', offset: r.offset + done, length: n, fileOffset: r.fileOffset + done });
      pieceBytes += n;
      done += n;
      if (pieceBytes === max) yield (await flushData())!;
    }
  }
  const e = await flushData();
  if (e) yield e;
  if (hole) yield emptyExtent('unallocated', hole.offset, hole.length);
}
