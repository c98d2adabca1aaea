/**
 * Piscina's worker entry, in CommonJS on purpose. Piscina loads its `filename` with require() first, and
 * on Node 20.19+ require() of an ES module links the whole graph synchronously (require(esm)); a worker
 * terminated inside that window (a pool destroyed while one of its threads is still loading) aborts the
 * whole process with V8's fatal "v8::Module::IsGraphAsync must be used on an instantiated module".
 * Loaded with import() on the first task instead, the graph links asynchronously, where termination is
 * an ordinary exception, and a thread that never gets a task never loads it at all.
 */
import type { ChunkJob } from './worker-pool.js' with { 'resolution-mode': 'import' };

type RunChunkJob = (job: ChunkJob) => unknown;

let worker: Promise<{ default: RunChunkJob }> | undefined;

async function runChunkJob(job: ChunkJob): Promise<unknown> {
  worker ??= import('./chunk-worker.js');
  return (await worker).default(job);
}

export = runChunkJob;
