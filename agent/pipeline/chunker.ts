import { throwIfAborted } from '../core/abort.js';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import type { Extent } from '../disk/extent.js';
import type { BufferSlab } from './buffer-slab.js';

/** A chunk-aligned piece of the virtual disk, ready for per-chunk work in the pool. */
export type Chunk =
  /** [offset, offset+length) holds no data (zero or unallocated extents only); spans whole chunks. */
  | { readonly kind: 'empty'; readonly offset: number; readonly length: number }
  /** `length` bytes in slab slot `slot` (ranges the source did not store are zero-filled). */
  | { readonly kind: 'data'; readonly offset: number; readonly length: number; readonly slot: number };

/**
 * Re-cuts a source's extents at multiples of the slab's slot size (a whole number of grains,
 * clusters or blocks), copying data into slab slots. Runs of empty chunks come out as one.
 * Waiting for a free slot is the pipeline's backpressure on the reader.
 */
export async function* chunkExtents(
  extents: AsyncIterable<Extent>,
  virtualSize: number,
  slab: BufferSlab,
  signal?: AbortSignal,
  /** Called with each data extent's buffer once its bytes are in the slab (a read-buffer pool takes it back). */
  recycle?: (data: Buffer) => void,
): AsyncGenerator<Chunk> {
  const size = slab.slotSize;
  let chunkStart = 0;
  let slot: number | undefined;
  let emptyFrom: number | undefined;

  const flushEmpty = function* (upTo: number): Generator<Chunk> {
    if (emptyFrom !== undefined && upTo > emptyFrom) yield { kind: 'empty', offset: emptyFrom, length: upTo - emptyFrom };
    emptyFrom = undefined;
  };

  let expected = 0;
  for await (const e of extents) {
    throwIfAborted(signal);
    checkExtent(e, expected, virtualSize);
    expected += e.length;
    let pos = e.offset;
    const end = e.offset + e.length;
    while (pos < end) {
      const chunkEnd = Math.min(chunkStart + size, virtualSize);
      if (e.kind !== 'data' && slot === undefined && pos === chunkStart) {
        // Whole empty chunks: skip them without touching memory.
        const skipTo = end >= chunkEnd ? chunkStart + Math.floor((end - chunkStart) / size) * size : chunkStart;
        if (skipTo > chunkStart) {
          emptyFrom ??= chunkStart;
          chunkStart = Math.min(skipTo, virtualSize);
          pos = chunkStart;
          continue;
        }
      }
      const pieceEnd = Math.min(end, chunkEnd);
      if (e.kind === 'data') {
        if (slot === undefined) {
          yield* flushEmpty(chunkStart);
          slot = await slab.acquire(signal);
          slab.view(slot).fill(0, 0, pos - chunkStart);
        }
        e.data.copy(slab.view(slot), pos - chunkStart, pos - e.offset, pieceEnd - e.offset);
      } else if (slot !== undefined) {
        slab.view(slot).fill(0, pos - chunkStart, pieceEnd - chunkStart);
      }
      pos = pieceEnd;
      if (pos === end && e.kind === 'data') recycle?.(e.data);
      if (pos === chunkEnd) {
        if (slot !== undefined) {
          yield { kind: 'data', offset: chunkStart, length: chunkEnd - chunkStart, slot };
          slot = undefined;
        } else emptyFrom ??= chunkStart;
        chunkStart = chunkEnd;
      }
    }
  }
  if (expected !== virtualSize) {
    throw vmxError(CORE.SOURCE_EXTENTS, `the source's extents end at byte ${expected}, short of its virtual size ${virtualSize}`, { offset: expected });
  }
  yield* flushEmpty(chunkStart);
}

/** Readers promise extents that tile [0, virtualSize) in order; a broken promise must not become a wrong image. */
function checkExtent(e: Extent, expected: number, virtualSize: number): void {
  const bad =
    e.offset !== expected ? `starts at byte ${e.offset}, expected ${expected} (extents must tile the disk in order)`
    : !(e.length > 0) ? `has length ${e.length}`
    : e.offset + e.length > virtualSize ? `ends at byte ${e.offset + e.length}, past the virtual size ${virtualSize}`
    : e.kind === 'data' && e.data.length !== e.length ? `carries ${e.data.length} bytes for length ${e.length}`
    : undefined;
  if (bad) throw vmxError(CORE.SOURCE_EXTENTS, `the source's ${e.kind} extent ${bad}`, { offset: e.offset });
}
