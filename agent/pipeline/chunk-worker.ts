import { CHUNK_TASKS } from './chunk-tasks.js';
import type { ChunkJob } from './worker-pool.js';

/** Piscina worker entry: looks the task up by name and runs it over the shared slot. */
export default function runChunkJob(job: ChunkJob): unknown {
  const fn = CHUNK_TASKS[job.task];
  if (!fn) throw new Error(`unknown chunk task ${job.task}`);
  return fn(Buffer.from(job.memory, job.byteOffset, job.length), job.params);
}
