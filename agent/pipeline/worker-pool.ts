import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { CHUNK_TASKS } from './chunk-tasks.js';
import { abortedError } from '../core/abort.js';

/** What each thread loads: a CommonJS entry, never an ES module through require() (chunk-worker-entry.cts says why). */
export const CHUNK_WORKER_ENTRY = new URL('./chunk-worker-entry.cjs', import.meta.url);

export interface ChunkJob {
  task: string;
  memory: SharedArrayBuffer;
  byteOffset: number;
  length: number;
  params?: unknown;
}

/**
 * Runs chunk tasks on a Piscina pool, or inline on the calling thread when `threads` is 0.
 * Chunk bytes are never copied: jobs carry an offset into a SharedArrayBuffer slab.
 */
export class WorkerPool {
  private piscinaPool: Piscina | undefined;
  private busyMs = 0;
  private readonly created = performance.now();
  private queued = 0;

  /** `env`: the workers' process.env, default this process's (how a test runs workers with another VMXFER_DEFLATE). */
  constructor(readonly threads: number, private readonly env?: NodeJS.ProcessEnv) {}

  /**
   * The threads start with the first task, not with the pool: a run with nothing to encode (an empty
   * disk) then never starts a worker, and none is torn down while still loading its module, which
   * Node 20 can answer with a fatal V8 error (v8::Module::IsGraphAsync) in the exiting process.
   */
  private get piscina(): Piscina | undefined {
    if (this.threads > 0 && !this.piscinaPool) {
      this.piscinaPool = new Piscina({
        ...(this.env ? { env: this.env } : {}),
        filename: CHUNK_WORKER_ENTRY.href,
        minThreads: this.threads,
        maxThreads: this.threads,
        idleTimeout: 30_000,
        concurrentTasksPerWorker: 1,
      });
    }
    return this.piscinaPool;
  }

  /** Threads from the cores this process may use (cgroup-aware in node ≥ 18.14). */
  static defaultThreads(): number {
    return Math.max(1, availableParallelism());
  }

  async run<T>(job: ChunkJob, signal?: AbortSignal): Promise<T> {
    const t0 = performance.now();
    this.queued++;
    try {
      if (!this.piscina) {
        const fn = CHUNK_TASKS[job.task];
        if (!fn) throw new Error(`unknown chunk task ${job.task}`);
        return fn(Buffer.from(job.memory, job.byteOffset, job.length), job.params) as T;
      }
      return (await this.piscina.run(job, signal ? { signal } : {})) as T;
    } catch (err) {
      // Piscina rejects an aborted task with its own AbortError: report the cancellation as ours.
      if (signal?.aborted) throw abortedError(signal);
      throw err;
    } finally {
      this.queued--;
      this.busyMs += performance.now() - t0;
    }
  }

  /** Fraction of thread-time spent on tasks since creation (for metrics). */
  utilisation(): number {
    const elapsed = performance.now() - this.created;
    return elapsed > 0 ? Math.min(1, this.busyMs / (elapsed * Math.max(1, this.threads))) : 0;
  }

  get queueDepth(): number {
    return this.queued;
  }

  async destroy(): Promise<void> {
    await this.piscinaPool?.destroy();
  }
}
