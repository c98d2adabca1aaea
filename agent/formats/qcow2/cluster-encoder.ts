import { RAW_DEFLATER } from '../../compression/deflate-raw.js';

/**
 * Per-chunk work of the compressed qcow2 writer, pure so the worker pool can run it: each cluster of
 * the chunk is skipped when all zero, deflated when that makes it smaller (the deflater and the
 * window qemu reads with are explained in compression/deflate-raw.ts), else kept whole.
 */
export interface ClusterEncodeResult {
  /** Per cluster: 0 all zero, -n stored whole (n = cluster size), +n deflated to n bytes. */
  sizes: Int32Array;
  /** The stored and deflated payloads back to back, in cluster order. */
  payload: Uint8Array;
}

/**
 * `into`: where to write the payload (at least clusters × clusterSize bytes, the most it can take);
 * the result's payload is then a view of it. Absent: a fresh buffer.
 */
export function encodeClusters(data: Uint8Array, clusterSize: number, into?: Buffer): ClusterEncodeResult {
  const count = Math.ceil(data.length / clusterSize);
  if (into && into.length < count * clusterSize) {
    throw new RangeError(`${into.length} output bytes cannot hold the payload of ${count} clusters of ${clusterSize} bytes`);
  }
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  const zero = Buffer.alloc(clusterSize);
  const sizes = new Int32Array(count);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    let cluster = view.subarray(i * clusterSize, Math.min(view.length, (i + 1) * clusterSize));
    if (cluster.equals(zero.subarray(0, cluster.length))) continue;
    if (cluster.length < clusterSize) cluster = Buffer.concat([cluster, zero.subarray(cluster.length)]);
    const packed = RAW_DEFLATER.compress(cluster, clusterSize - 1);
    if (packed) {
      sizes[i] = packed.length;
      parts.push(packed);
    } else {
      sizes[i] = -clusterSize;
      parts.push(cluster);
    }
  }
  if (!into) return { sizes, payload: Buffer.concat(parts) };
  let at = 0;
  for (const part of parts) at += part.copy(into, at);
  return { sizes, payload: into.subarray(0, at) };
}
