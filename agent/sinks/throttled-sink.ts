import { decorateSink } from './decorate-sink.js';
import type { ObjectSink } from './object-sink.js';
import { drawBytes } from './paced-body.js';
import type { TokenBucket } from './token-bucket.js';

/**
 * Decorator for `--bwlimit`: the shared token bucket paces every part body on the wire, a slice at a
 * time (the store draws each slice through the part's pacer), and each range read waits for its
 * bytes first, a slice at a time so a large range does not hold up the parts of other transfers.
 * Placed outside the retry decorator, every attempt of a part draws through the same pacer, so a
 * resent part keeps its place in line; each attempt draws its bytes again: the limit holds for the
 * bytes that really leave, resends included.
 */
export function throttledSink(inner: ObjectSink, bucket: TokenBucket | undefined): ObjectSink {
  if (!bucket) return inner;
  return decorateSink(inner, {
    uploadPart: (key, uploadId, partNumber, body, signal) => inner.uploadPart(key, uploadId, partNumber, body, signal, bucket.pacer()),
    getRange: async (key, start, end, signal) => {
      await drawBytes(end - start, bucket.pacer(), signal);
      return inner.getRange(key, start, end, signal);
    },
  });
}
