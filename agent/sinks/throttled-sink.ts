import { decorateSink } from './decorate-sink.js';
import type { ObjectSink } from './object-sink.js';
import type { TokenBucket } from './token-bucket.js';

/**
 * Decorator for `--bwlimit`: each part sent and each range read waits for its bytes in the shared
 * token bucket first. Placed outside the retry decorator, a part is charged once however many
 * attempts it takes; the limit is on the work done, not on resends.
 */
export function throttledSink(inner: ObjectSink, bucket: TokenBucket | undefined): ObjectSink {
  if (!bucket) return inner;
  return decorateSink(inner, {
    uploadPart: async (key, uploadId, partNumber, body, signal) => {
      await bucket.take(body.length, signal);
      return inner.uploadPart(key, uploadId, partNumber, body, signal);
    },
    getRange: async (key, start, end, signal) => {
      await bucket.take(end - start, signal);
      return inner.getRange(key, start, end, signal);
    },
  });
}
