import { throwIfAborted } from '../../core/abort.js';
import type { DiskSource } from '../../disk/disk-source.js';
import { isZero } from '../../io/file-output.js';

export interface GuestCluster {
  index: number;
  /** Exactly one cluster; the tail of the last cluster past the virtual size is zero. */
  data: Buffer;
}

/**
 * The source's clusters that hold a non-zero byte, in order. Zero and unallocated extents and
 * all-zero data clusters are skipped (the writer leaves them unallocated). A cluster wholly inside
 * one data extent is a view of it; one assembled from pieces is copied into a fresh buffer.
 */
export async function* nonZeroClusters(source: DiskSource, clusterSize: number, signal?: AbortSignal): AsyncGenerator<GuestCluster> {
  let partial: GuestCluster | undefined;
  for await (const e of source.extents({ signal })) {
    throwIfAborted(signal);
    if (e.kind !== 'data') continue;
    const end = e.offset + e.length;
    for (let pos = e.offset; pos < end; ) {
      const index = Math.floor(pos / clusterSize);
      const within = pos - index * clusterSize;
      const n = Math.min(clusterSize - within, end - pos);
      const piece = e.data.subarray(pos - e.offset, pos - e.offset + n);
      pos += n;
      if (partial && partial.index !== index) {
        yield partial;
        partial = undefined;
      }
      if (isZero(piece)) continue;
      if (n === clusterSize) {
        yield { index, data: piece };
        continue;
      }
      // Only clusters holding a non-zero byte get a buffer.
      partial ??= { index, data: Buffer.alloc(clusterSize) };
      piece.copy(partial.data, within);
    }
  }
  if (partial) yield partial;
}
