import { throwIfAborted } from '../core/abort.js';
import { DEFAULT_MAX_DATA_EXTENT, type ExtentReadOptions } from './disk-source.js';
import { dataExtent, emptyExtent, type Extent, type ExtentKind } from './extent.js';

/**
 * A piece of a block-mapped image (VHDX, VDI, ...): a virtual range and, for data, where its bytes
 * start in the image file. Readers describe their tables as runs; `coalesceRuns` merges neighbours
 * (data only when the file offsets are contiguous too) so one read covers a whole contiguous run.
 */
export interface MappedRun {
  readonly kind: ExtentKind;
  readonly offset: number;
  readonly length: number;
  /** File offset of the first byte; only for data runs. */
  readonly fileOffset?: number;
}

/** Merges adjacent runs of the same kind (data runs only when also contiguous in the file). */
export async function* coalesceRuns(runs: AsyncIterable<MappedRun>): AsyncGenerator<MappedRun> {
  let pending: MappedRun | undefined;
  for await (const run of runs) {
    if (run.length === 0) continue;
    if (pending && continues(pending, run)) {
      pending = { ...pending, length: pending.length + run.length };
      continue;
    }
    if (pending) yield pending;
    pending = run;
  }
  if (pending) yield pending;
}

function continues(a: MappedRun, b: MappedRun): boolean {
  if (a.kind !== b.kind || a.offset + a.length !== b.offset) return false;
  if (a.kind !== 'data') return true;
  return a.fileOffset !== undefined && b.fileOffset !== undefined && a.fileOffset + a.length === b.fileOffset;
}

/** Reads `buf.length` bytes of the image at `fileOffset`. */
export type RunReader = (fileOffset: number, buf: Buffer) => Promise<void>;

/**
 * Turns runs into extents: data runs are read in pieces of at most `maxDataLength` bytes, cut at
 * multiples of it in the virtual disk so that a consumer chunking at that size gets whole chunks.
 */
export async function* runsToExtents(runs: AsyncIterable<MappedRun>, read: RunReader, opts: ExtentReadOptions = {}): AsyncGenerator<Extent> {
  const max = opts.maxDataLength ?? DEFAULT_MAX_DATA_EXTENT;
  const allocate = opts.allocate ?? Buffer.allocUnsafe;
  for await (const run of coalesceRuns(runs)) {
    if (run.kind !== 'data') {
      yield emptyExtent(run.kind, run.offset, run.length);
      continue;
    }
    const end = run.offset + run.length;
    for (let pos = run.offset; pos < end; ) {
      throwIfAborted(opts.signal);
      const pieceEnd = Math.min(end, (Math.floor(pos / max) + 1) * max);
      const buf = allocate(pieceEnd - pos);
      await read(run.fileOffset! + (pos - run.offset), buf);
      yield dataExtent(pos, buf);
      pos = pieceEnd;
    }
  }
}
