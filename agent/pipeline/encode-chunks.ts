import type { DiskSource } from '../disk/disk-source.js';
import { AlignedBufferPool } from '../io/aligned-buffer-pool.js';
import { BufferSlab } from './buffer-slab.js';
import { chunkExtents, type Chunk } from './chunker.js';
import { orderedMap } from './ordered-map.js';
import { WorkerPool } from './worker-pool.js';

export interface EncodeChunksOptions {
  /** Bytes per chunk (a whole number of the format's grains/clusters/blocks). */
  chunkBytes: number;
  /** The chunk task's name in CHUNK_TASKS. */
  task: string;
  /** Per-task parameters besides the chunk (e.g. compression level); `offset` is added per chunk. */
  params: Record<string, unknown>;
  pool?: WorkerPool | undefined;
  signal?: AbortSignal | undefined;
}

export interface EncodedChunk<R> {
  offset: number;
  length: number;
  result: R;
}

/**
 * The conversion pipeline's core: the source's extents are cut into chunks in a shared slab, each
 * data chunk is encoded by a pool task (zero detection, compression) while the next ones are read,
 * and results come back in disk order. Empty chunks skip the pool. In flight: twice the pool's
 * threads (at least 2), so memory is (window + 2) × chunkBytes in the slab plus up to two read buffers, and a
 * slow consumer stops the reader.
 */
export async function* encodeChunks<R>(source: DiskSource, opts: EncodeChunksOptions): AsyncGenerator<EncodedChunk<R> | Extract<Chunk, { kind: 'empty' }>> {
  const pool = opts.pool ?? new WorkerPool(0);
  const window = Math.max(2, pool.threads * 2);
  const slab = new BufferSlab(window + 2, opts.chunkBytes);
  // Reads land in reused page-aligned buffers (4x faster reads than allocUnsafe's offset ones), then one copy into the shared slab.
  const reads = new AlignedBufferPool(opts.chunkBytes);
  const extents = source.extents({ signal: opts.signal, maxDataLength: opts.chunkBytes, allocate: reads.acquire });
  const chunks = chunkExtents(extents, source.virtualSize, slab, opts.signal, (data) => reads.release(data));
  const run = async (c: Chunk) => {
    if (c.kind === 'empty') return c;
    try {
      const job = { task: opts.task, memory: slab.memory, byteOffset: c.slot * slab.slotSize, length: c.length, params: { ...opts.params, offset: c.offset } };
      const result = await pool.run<R>(job, opts.signal);
      return { offset: c.offset, length: c.length, result };
    } finally {
      slab.release(c.slot);
    }
  };
  try {
    yield* orderedMap(chunks, run, window, opts.signal);
  } finally {
    if (!opts.pool) await pool.destroy();
  }
}
