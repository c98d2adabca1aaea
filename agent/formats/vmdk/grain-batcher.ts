import type { DiskSource } from '../../disk/disk-source.js';
import type { Extent } from '../../disk/extent.js';
import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import { isZero } from '../../io/file-output.js';
import { VMDKW } from './writer-error-codes.js';
import { GRAIN_BYTES } from './writer-layout.js';

/** A run of whole grains inside one batch window: the input of encodeGrains. */
export interface GrainBatch {
  readonly firstGrain: number;
  /** Whole grains; gaps the source left empty and the tail past the disk's end are zero. */
  readonly data: Buffer;
}

export interface GrainBatchOptions {
  /** Window size: a multiple of the grain size. Windows are aligned to it, so a batch never spans two. */
  batchBytes: number;
  signal?: AbortSignal | undefined;
}

/**
 * Gathers a disk's data extents into grain-aligned batches, one per aligned window of `batchBytes`
 * that holds any non-zero data. Zero and unallocated extents, and data extents that are all zeros,
 * produce nothing. Memory: one window buffer, reused — a yielded batch is valid until the next one
 * is requested (a consumer that keeps it, e.g. by transferring it to a worker, copies it first).
 */
export async function* grainBatches(source: DiskSource, opts: GrainBatchOptions): AsyncGenerator<GrainBatch> {
  const window = new BatchWindow(opts.batchBytes);
  let expected = 0;
  for await (const e of source.extents({ signal: opts.signal })) {
    throwIfAborted(opts.signal);
    checkExtent(e, expected, source.virtualSize);
    expected += e.length;
    if (e.kind !== 'data' || isZero(e.data)) continue;
    for (let pos = e.offset; pos < e.offset + e.length; ) {
      const flushed = window.moveTo(pos);
      if (flushed) yield flushed;
      pos += window.copyIn(e.data, pos - e.offset, pos);
    }
  }
  if (expected !== source.virtualSize) {
    throw vmxError(VMDKW.SOURCE_EXTENT_INVALID, `the source's extents end at byte ${expected}, short of its virtual size ${source.virtualSize}`, {
      offset: expected,
    });
  }
  const last = window.flush();
  if (last) yield last;
}

/** The window being filled: which one, where its grain-aligned content starts, how far it is filled. */
class BatchWindow {
  private readonly buf: Buffer;
  private index = -1;
  private start = 0;
  private filled = 0;

  constructor(private readonly bytes: number) {
    this.buf = Buffer.allocUnsafe(bytes);
  }

  /** Makes `pos`'s window current; returns the previous window's batch when that one is left. */
  moveTo(pos: number): GrainBatch | undefined {
    const w = Math.floor(pos / this.bytes);
    if (w === this.index) return undefined;
    const done = this.flush();
    this.index = w;
    this.start = Math.floor((pos - w * this.bytes) / GRAIN_BYTES) * GRAIN_BYTES;
    this.filled = this.start;
    return done;
  }

  /** Copies bytes of `data` from `from` for virtual offset `pos` up to the window's end; returns the count. */
  copyIn(data: Buffer, from: number, pos: number): number {
    const at = pos - this.index * this.bytes;
    const n = Math.min(data.length - from, this.bytes - at);
    if (at > this.filled) this.buf.fill(0, this.filled, at);
    data.copy(this.buf, at, from, from + n);
    this.filled = at + n;
    return n;
  }

  flush(): GrainBatch | undefined {
    if (this.index === -1) return undefined;
    const end = Math.ceil(this.filled / GRAIN_BYTES) * GRAIN_BYTES;
    this.buf.fill(0, this.filled, end);
    const batch = { firstGrain: (this.index * this.bytes + this.start) / GRAIN_BYTES, data: this.buf.subarray(this.start, end) };
    this.index = -1;
    return batch;
  }
}

function checkExtent(e: Extent, expected: number, virtualSize: number): void {
  const bad =
    e.offset !== expected ? `starts at byte ${e.offset}, expected ${expected} (extents must tile the disk in order)`
    : !(e.length > 0) ? `has length ${e.length}`
    : e.offset + e.length > virtualSize ? `ends at byte ${e.offset + e.length}, past the virtual size ${virtualSize}`
    : e.kind === 'data' && e.data.length !== e.length ? `carries ${e.data.length} bytes for length ${e.length}`
    : undefined;
  if (bad) throw vmxError(VMDKW.SOURCE_EXTENT_INVALID, `the source's ${e.kind} extent ${bad}`, { offset: e.offset });
}
