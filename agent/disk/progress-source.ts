import type { ProgressTracker } from '../core/progress.js';
import type { DiskSource, ExtentReadOptions } from './disk-source.js';
import type { Extent } from './extent.js';

/**
 * Decorator: reports every extent the consumer pulls as virtual bytes read. A consumer that reads
 * the source again (the OVA writer sizes a large disk's VMDK in one pass and writes it in a second)
 * adds the virtual size to the total as that pass starts, so bytesRead never passes totalBytes.
 */
export function withProgress(source: DiskSource, tracker: ProgressTracker): DiskSource {
  let passes = 0;
  return Object.create(source, {
    extents: {
      value: async function* (opts?: ExtentReadOptions): AsyncGenerator<Extent> {
        if (passes++ > 0) tracker.totalBytes += source.virtualSize;
        for await (const e of source.extents(opts)) {
          yield e;
          tracker.advance(e.length);
        }
      },
    },
  }) as DiskSource;
}
