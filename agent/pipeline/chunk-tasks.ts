/**
 * The per-chunk functions the worker pool runs. Each is pure: it reads `data` (a view of a slab
 * slot shared with the main thread) and returns a result that is structured-cloneable. Formats
 * add their encoders here so the pool, which knows none of them, can run them by name.
 */
export type ChunkTaskFn = (data: Buffer, params: any) => unknown;

export const CHUNK_TASKS: Record<string, ChunkTaskFn> = {
  /** Used by tests and the pool's self-check: the sum of the bytes. */
  'byte-sum': (data) => {
    let s = 0;
    for (let i = 0; i < data.length; i++) s += data[i]!;
    return s;
  },
};
