import { deflateRawSync } from 'node:zlib';

/**
 * Per-chunk work of the compressed qcow2 writer, pure so the worker pool can run it: each cluster of
 * the chunk is skipped when all zero, deflated when that makes it smaller, else kept whole.
 * qemu inflates compressed clusters with a 4 KiB window (inflateInit2(-12)), so streams must not
 * refer further back. Level 1: 1.8x faster than level 6 for ~4% larger output on this machine kind
 * (shared/docs/field-notes.md, Compression).
 */
export const QCOW2_DEFLATE = { windowBits: 12, level: 1 } as const;

export interface ClusterEncodeResult {
  /** Per cluster: 0 all zero, -n stored whole (n = cluster size), +n deflated to n bytes. */
  sizes: Int32Array;
  /** The stored and deflated payloads back to back, in cluster order. */
  payload: Uint8Array;
}

export function encodeClusters(data: Uint8Array, clusterSize: number): ClusterEncodeResult {
  const count = Math.ceil(data.length / clusterSize);
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  const zero = Buffer.alloc(clusterSize);
  const sizes = new Int32Array(count);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    let cluster = view.subarray(i * clusterSize, Math.min(view.length, (i + 1) * clusterSize));
    if (cluster.equals(zero.subarray(0, cluster.length))) continue;
    if (cluster.length < clusterSize) cluster = Buffer.concat([cluster, zero.subarray(cluster.length)]);
    const packed = deflateRawSync(cluster, QCOW2_DEFLATE);
    if (packed.length < clusterSize) {
      sizes[i] = packed.length;
      parts.push(packed);
    } else {
      sizes[i] = -clusterSize;
      parts.push(cluster);
    }
  }
  return { sizes, payload: Buffer.concat(parts) };
}
