import { throwIfAborted } from '../core/abort.js';

/**
 * Maps an async sequence through an async function with at most `window` calls in flight and
 * yields results in input order. The input is pulled only when a slot is free, so a slow consumer
 * holds back the producer (backpressure) and memory stays at `window` items.
 */
export async function* orderedMap<I, O>(
  input: AsyncIterable<I>,
  fn: (item: I) => Promise<O>,
  window: number,
  signal?: AbortSignal,
): AsyncGenerator<O> {
  const inFlight: Array<Promise<O>> = [];
  const it = input[Symbol.asyncIterator]();
  let done = false;
  try {
    while (true) {
      while (!done && inFlight.length < window) {
        throwIfAborted(signal);
        const r = await it.next();
        if (r.done) done = true;
        else {
          const p = fn(r.value);
          p.catch(() => undefined); // observed when its turn comes; avoids an unhandled rejection meanwhile
          inFlight.push(p);
        }
      }
      const next = inFlight.shift();
      if (!next) return;
      yield await next;
    }
  } finally {
    await Promise.allSettled(inFlight);
    if (!done) await it.return?.();
  }
}
