import { verbose } from '../core/verbose.js';
import { decorateSink } from './decorate-sink.js';
import type { ObjectSink } from './object-sink.js';

/** Decorator for -v: each store request (each attempt, inside the retry decorator) with its outcome and duration. */
export function tracedSink(inner: ObjectSink): ObjectSink {
  const where = `${inner.kind}://${inner.bucket}`;
  const trace =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>, describe: (...args: A) => string) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      const what = `${name} ${where}/${describe(...args)}`;
      try {
        const r = await fn.apply(inner, args);
        verbose(`${what} ok ${(performance.now() - started).toFixed(0)} ms`);
        return r;
      } catch (err) {
        verbose(`${what} failed after ${(performance.now() - started).toFixed(0)} ms: ${(err as Error)?.message ?? err}`);
        throw err;
      }
    };
  return decorateSink(inner, {
    createUpload: trace('createUpload', inner.createUpload, (k) => k),
    uploadPart: trace('uploadPart', inner.uploadPart, (k, _u, n, body) => `${k} part ${n} (${body.length} bytes)`),
    ...(inner.copyPart ? { copyPart: trace('copyPart', inner.copyPart, (k, _u, n, src) => `${k} part ${n} from ${src.key} bytes ${src.start}-${src.end}`) } : {}),
    listParts: trace('listParts', inner.listParts, (k) => k),
    completeUpload: trace('completeUpload', inner.completeUpload, (k, _u, parts) => `${k} (${parts.length} parts)`),
    abortUpload: trace('abortUpload', inner.abortUpload, (k, u) => `${k} upload ${u}`),
    listUploads: trace('listUploads', inner.listUploads, (p) => p),
    head: trace('head', inner.head, (k) => k),
    getRange: trace('getRange', inner.getRange, (k, s, e) => `${k} bytes ${s}-${e}`),
    deleteObject: trace('deleteObject', inner.deleteObject, (k) => k),
    getTags: trace('getTags', inner.getTags, (k) => k),
    putTags: trace('putTags', inner.putTags, (k) => k),
  });
}
