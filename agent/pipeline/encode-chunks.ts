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
  /**
   * Bytes one chunk's result may need: the task then writes it into a slot of a shared output slab
   * (`params.output`, a ChunkOutput) instead of a fresh buffer, and the slot is reused once the
   * consumer asks for the chunk after it. Absent: results are fresh buffers moved from the worker.
   */
  outputBytes?: number | undefined;
  pool?: WorkerPool | undefined;
  signal?: AbortSignal | undefined;
}

/** Where a task writes its result: `length` bytes at `byteOffset` of the shared `memory`. */
export interface ChunkOutput {
  memory: SharedArrayBuffer;
  byteOffset: number;
  length: number;
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
 *
 * With `outputBytes`, results live in a second slab of (window + 2) slots and a result is valid until
 * the consumer asks for the next one. Shared slots, not buffers moved from the workers: each moved
 * buffer counts in the main thread as newly allocated external memory, and while an upload waits on
 * the network those buffers outlived scavenges, so every 64 MiB of output cost a full mark-compact
 * (26-28 per 0.5 GiB against 3 with slots, bench/README.md "GC").
 */
export async function* encodeChunks<R>(source: DiskSource, opts: EncodeChunksOptions): AsyncGenerator<EncodedChunk<R> | Extract<Chunk, { kind: 'empty' }>> {
  const pool = opts.pool ?? new WorkerPool(0);
  const window = Math.max(2, pool.threads * 2);
  const slab = new BufferSlab(window + 2, opts.chunkBytes);
  // Reads land in reused page-aligned buffers (4x faster reads than allocUnsafe's offset ones), then one copy into the shared slab.
  const reads = new AlignedBufferPool(opts.chunkBytes);
  const extents = source.extents({ signal: opts.signal, maxDataLength: opts.chunkBytes, allocate: reads.acquire });
  const chunks = chunkExtents(extents, source.virtualSize, slab, opts.signal, (data) => reads.release(data));
  const outputs = opts.outputBytes ? new BufferSlab(window + 2, opts.outputBytes) : undefined;
  const run = async (c: Chunk): Promise<Slotted<EncodedChunk<R>> | Extract<Chunk, { kind: 'empty' }>> => {
    if (c.kind === 'empty') return c;
    const outSlot = await outputs?.acquire(opts.signal);
    try {
      const output: ChunkOutput | undefined = outputs && { memory: outputs.memory, byteOffset: outSlot! * outputs.slotSize, length: outputs.slotSize };
      const job = { task: opts.task, memory: slab.memory, byteOffset: c.slot * slab.slotSize, length: c.length, params: { ...opts.params, offset: c.offset, output } };
      const result = await pool.run<R>(job, opts.signal);
      return { chunk: { offset: c.offset, length: c.length, result }, outSlot };
    } catch (err) {
      if (outSlot !== undefined) outputs!.release(outSlot);
      throw err;
    } finally {
      slab.release(c.slot);
    }
  };
  try {
    for await (const item of orderedMap(chunks, run, window, opts.signal)) {
      if (!('chunk' in item)) {
        yield item;
        continue;
      }
      yield item.chunk;
      // The consumer asked for the next chunk: it is done with this one's output.
      if (item.outSlot !== undefined) outputs!.release(item.outSlot);
    }
  } finally {
    if (!opts.pool) await pool.destroy();
  }
}

interface Slotted<T> {
  chunk: T;
  outSlot: number | undefined;
}
