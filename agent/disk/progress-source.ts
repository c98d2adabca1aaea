import type { ProgressTracker } from '../core/progress.js';
import type { DiskSource, ExtentReadOptions } from './disk-source.js';
import type { Extent } from './extent.js';

/** Decorator: reports every extent the consumer pulls as virtual bytes read. */
export function withProgress(source: DiskSource, tracker: ProgressTracker): DiskSource {
  return Object.create(source, {
    extents: {
      value: async function* (opts?: ExtentReadOptions): AsyncGenerator<Extent> {
        for await (const e of source.extents(opts)) {
          yield e;
          tracker.advance(e.length);
        }
      },
    },
  }) as DiskSource;
}
