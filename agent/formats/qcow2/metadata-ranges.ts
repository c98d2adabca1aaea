import type { Qcow2Header } from './qcow2-header.js';

/** A byte range [start, end) of the image file. */
export interface FileRange {
  readonly start: number;
  readonly end: number;
  readonly what: string;
}

/**
 * The fixed metadata no L2 table or data cluster may share: the header cluster (qcow2.txt §Header
 * "The first cluster of a qcow2 image contains the file header"), the active L1 table and the
 * refcount table (qcow2.txt §Host cluster management). An entry pointing into one of them is a
 * corrupt image whose "data" would be metadata.
 */
export function fixedMetadataRanges(h: Qcow2Header): FileRange[] {
  return [
    { start: 0, end: h.clusterSize, what: 'the header cluster' },
    { start: h.l1TableOffset, end: h.l1TableOffset + h.l1Size * 8, what: 'the L1 table' },
    { start: h.refcountTableOffset, end: h.refcountTableOffset + h.refcountTableClusters * h.clusterSize, what: 'the refcount table' },
  ];
}

/** The metadata range [start, end) overlaps, if any. */
export function overlappingMetadata(ranges: readonly FileRange[], start: number, end: number): FileRange | undefined {
  return ranges.find((r) => r.end > r.start && start < r.end && end > r.start);
}
