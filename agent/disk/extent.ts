/**
 * The disk model: a virtual disk is its size plus an ordered sequence of extents that tile
 * [0, virtualSize) with no gaps and no overlaps.
 *  - data:        bytes stored in the image (may still contain zeros; writers detect those)
 *  - zero:        the image says "reads as zero" explicitly (e.g. VMDK zeroed-grain GTE, qcow2 zero cluster);
 *                 in a chain a zero extent hides the parent
 *  - unallocated: the image stores nothing here; reads as zero, or falls through to the parent in a chain
 */
export type ExtentKind = 'data' | 'zero' | 'unallocated';

export interface DataExtent {
  readonly kind: 'data';
  readonly offset: number;
  readonly length: number;
  /** Exactly `length` bytes. Ownership passes to the consumer once yielded. */
  readonly data: Buffer;
}

export interface EmptyExtent {
  readonly kind: 'zero' | 'unallocated';
  readonly offset: number;
  readonly length: number;
}

export type Extent = DataExtent | EmptyExtent;

/** An extent without its bytes: what allocation maps and inspect work with. */
export interface ExtentRange {
  readonly kind: ExtentKind;
  readonly offset: number;
  readonly length: number;
}

export function dataExtent(offset: number, data: Buffer): DataExtent {
  return { kind: 'data', offset, length: data.length, data };
}

export function emptyExtent(kind: 'zero' | 'unallocated', offset: number, length: number): EmptyExtent {
  return { kind, offset, length };
}

/** A sub-range of an extent; data is a view, not a copy. */
export function sliceExtent(e: Extent, from: number, to: number): Extent {
  const start = Math.max(from, e.offset);
  const end = Math.min(to, e.offset + e.length);
  if (e.kind === 'data') return dataExtent(start, e.data.subarray(start - e.offset, end - e.offset));
  return emptyExtent(e.kind, start, end - start);
}
