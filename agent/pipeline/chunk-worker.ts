import { Piscina } from 'piscina';
import { CHUNK_TASKS } from './chunk-tasks.js';
import type { ChunkJob } from './worker-pool.js';

/** Piscina worker entry: looks the task up by name and runs it over the shared slot. */
export default function runChunkJob(job: ChunkJob): unknown {
  const fn = CHUNK_TASKS[job.task];
  if (!fn) throw new Error(`unknown chunk task ${job.task}`);
  return movable(fn(Buffer.from(job.memory, job.byteOffset, job.length), job.params));
}

/**
 * The result with the buffers it wholly owns transferred, not cloned: a clone would copy each chunk's
 * output (MiBs) once more and leave the worker's copy to its garbage collector, which on a busy
 * conversion let each worker hold ~70 MiB. Views into larger or shared memory are cloned as before.
 */
function movable(result: unknown): unknown {
  if (result === null || typeof result !== 'object') return result;
  const owned = Object.values(result).flatMap((v) =>
    ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? [v.buffer] : [],
  );
  if (owned.length === 0) return result;
  return Piscina.move({ [Piscina.transferableSymbol]: owned, [Piscina.valueSymbol]: result } as unknown as Parameters<typeof Piscina.move>[0]);
}
