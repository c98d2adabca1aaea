import { vmxError } from '../../core/errors.js';
import { QCOW2 } from './error-codes.js';
import { MAX_CLUSTER_BITS, MAX_L1_ENTRIES, MIN_CLUSTER_BITS } from './qcow2-header.js';

/** qcow2.txt §Header refcount_order: 4 means 16-bit refcounts, qemu's default. */
export const REFCOUNT_ORDER = 4;
const REFCOUNT_BYTES = 2 ** REFCOUNT_ORDER / 8;

/**
 * Where the writer puts things, known before the first byte: the header cluster, the L1 table and
 * the refcount table sit at the start (reserved, patched at the end); everything else follows.
 * Sizes are upper bounds: every guest cluster stored (compressed ones never take more room than
 * a cluster, see qcow2-writer.ts), one L2 table per L1 entry, one refcount block per window.
 */
export interface WriterLayout {
  clusterSize: number;
  clusterBits: number;
  virtualSize: number;
  l2Entries: number;
  l1Entries: number;
  l1Offset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  /** Clusters one refcount block covers (qcow2.txt §Host cluster management). */
  refcountBlockEntries: number;
  headBytes: number;
  maxOutputSize: number;
}

export function checkClusterSize(clusterSize: number): number {
  const bits = Math.log2(clusterSize);
  if (!Number.isInteger(bits) || bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) {
    throw vmxError(QCOW2.WRITER_OPTIONS, `cluster size ${clusterSize} must be a power of two from 512 B to 2 MiB`);
  }
  return bits;
}

export function planLayout(virtualSize: number, clusterSize: number): WriterLayout {
  const clusterBits = checkClusterSize(clusterSize);
  const l2Entries = clusterSize / 8;
  const dataClusters = Math.ceil(virtualSize / clusterSize);
  const l1Entries = Math.ceil(dataClusters / l2Entries);
  if (l1Entries > MAX_L1_ENTRIES) {
    throw vmxError(QCOW2.WRITER_OPTIONS, `a ${virtualSize}-byte disk needs ${l1Entries} L1 entries with ${clusterSize}-byte clusters, over qemu's ${MAX_L1_ENTRIES}: use larger clusters`);
  }
  const l1Clusters = Math.max(1, Math.ceil((l1Entries * 8) / clusterSize));
  const refcountBlockEntries = clusterSize / REFCOUNT_BYTES;
  const fixed = 1 + l1Clusters + dataClusters + l1Entries;
  // Fixed point: the refcount table and blocks count themselves.
  let rtClusters = 1;
  let blocks = 1;
  for (;;) {
    const total = fixed + rtClusters + blocks;
    const needBlocks = Math.ceil(total / refcountBlockEntries);
    const needRt = Math.max(1, Math.ceil((needBlocks * 8) / clusterSize));
    if (needBlocks <= blocks && needRt <= rtClusters) break;
    blocks = Math.max(blocks, needBlocks);
    rtClusters = Math.max(rtClusters, needRt);
  }
  const headClusters = 1 + l1Clusters + rtClusters;
  return {
    clusterSize,
    clusterBits,
    virtualSize,
    l2Entries,
    l1Entries,
    l1Offset: clusterSize,
    refcountTableOffset: (1 + l1Clusters) * clusterSize,
    refcountTableClusters: rtClusters,
    refcountBlockEntries,
    headBytes: headClusters * clusterSize,
    maxOutputSize: (fixed + rtClusters + blocks) * clusterSize,
  };
}

/** qcow2.txt §Header, version 3, 112-byte header (compression_type zlib, padded) and an end-of-extensions marker. */
export function encodeHeader(l: WriterLayout): Buffer {
  const b = Buffer.alloc(120);
  b.writeUInt32BE(0x514649fb, 0);
  b.writeUInt32BE(3, 4);
  b.writeUInt32BE(l.clusterBits, 20);
  b.writeBigUInt64BE(BigInt(l.virtualSize), 24);
  b.writeUInt32BE(l.l1Entries, 36);
  b.writeBigUInt64BE(BigInt(l.l1Offset), 40);
  b.writeBigUInt64BE(BigInt(l.refcountTableOffset), 48);
  b.writeUInt32BE(l.refcountTableClusters, 56);
  b.writeUInt32BE(REFCOUNT_ORDER, 96);
  b.writeUInt32BE(112, 100);
  // Bytes 112-119: header extension type 0 (end), length 0.
  return b;
}
