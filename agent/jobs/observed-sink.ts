import { decorateSink } from '../sinks/decorate-sink.js';
import type { ObjectSink } from '../sinks/object-sink.js';

/** What a job learns from its sink's traffic: parts going out, ranges coming in. */
export interface SinkObserver {
  partStarted(partNumber: number, size: number): void;
  partEnded(partNumber: number, size: number, seconds: number, ok: boolean): void;
  rangeFetched(bytes: number, seconds: number): void;
}

/**
 * Decorator: reports each uploadPart and getRange call (with its retries, when wrapped around the
 * retrying sink) so the job view can show parts in flight and metrics can time them.
 */
export function observedSink(inner: ObjectSink, o: SinkObserver): ObjectSink {
  return decorateSink(inner, {
    uploadPart: async (key, uploadId, partNumber, body, signal, pacer) => {
      const t0 = performance.now();
      o.partStarted(partNumber, body.length);
      try {
        const ref = await inner.uploadPart(key, uploadId, partNumber, body, signal, pacer);
        o.partEnded(partNumber, body.length, (performance.now() - t0) / 1000, true);
        return ref;
      } catch (err) {
        o.partEnded(partNumber, body.length, (performance.now() - t0) / 1000, false);
        throw err;
      }
    },
    getRange: async (key, start, end, signal) => {
      const t0 = performance.now();
      const buf = await inner.getRange(key, start, end, signal);
      o.rangeFetched(buf.length, (performance.now() - t0) / 1000);
      return buf;
    },
  });
}
