/**
 * The per-chunk functions the worker pool runs. Each is pure: it reads `data` (a view of a slab
 * slot shared with the main thread) and returns a result that is structured-cloneable. Its bulk goes
 * into `params.output` (a slot of encodeChunks' shared output slab) when given; otherwise a typed array
 * in the result that owns its whole ArrayBuffer is transferred to the main thread (chunk-worker.ts),
 * which detaches it in the worker: a task must return fresh buffers, never a scratch it reuses.
 * Formats add their encoders here so the pool, which knows none of them, can run them by name.
 */
import { deflaterFor } from '../compression/deflate-zlib.js';
import { encodeGrains } from '../formats/vmdk/grain-encoder.js';
import { GRAIN_BYTES } from '../formats/vmdk/writer-layout.js';
import { encodeClusters } from '../formats/qcow2/cluster-encoder.js';
import type { ChunkOutput } from './encode-chunks.js';

export type ChunkTaskFn = (data: Buffer, params: any) => unknown;

export const CHUNK_TASKS: Record<string, ChunkTaskFn> = {
  /** Stream-optimized VMDK: zero detection and deflate of whole 64 KiB grains into on-disk records. */
  'vmdk-grains': (data, p: { offset: number; level: number; compressor: string; output?: ChunkOutput }) => {
    // Only the disk's last chunk can end inside a grain: pad it with zeros (VMDK 5.0: the last grain is whole).
    const whole = data.length % GRAIN_BYTES === 0 ? data : Buffer.concat([data, Buffer.alloc(GRAIN_BYTES - (data.length % GRAIN_BYTES))]);
    const deflater = deflaterFor(p.compressor);
    // The main thread checked the same name; a worker that loaded another copy of the addon differently cannot reproduce it.
    if (!deflater) throw new Error(`compressor ${p.compressor} is not available on this worker thread`);
    return encodeGrains({ firstGrain: p.offset / GRAIN_BYTES, data: whole, level: p.level, into: outputView(p.output) }, deflater);
  },
  /** Compressed qcow2: zero detection and raw deflate (4 KiB window) of each cluster. */
  'qcow2-clusters': (data, p: { clusterSize: number; output?: ChunkOutput }) =>
    encodeClusters(data, p.clusterSize, outputView(p.output)),
  /** Used by tests and the pool's self-check: the sum of the bytes. */
  'byte-sum': (data) => {
    let s = 0;
    for (let i = 0; i < data.length; i++) s += data[i]!;
    return s;
  },
};

/** The task's slot of the shared output slab, when encodeChunks gave it one. */
function outputView(output: ChunkOutput | undefined): Buffer | undefined {
  return output && Buffer.from(output.memory, output.byteOffset, output.length);
}
