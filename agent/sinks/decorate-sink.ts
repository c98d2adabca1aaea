import type { ObjectSink } from './object-sink.js';

type Operations = Omit<ObjectSink, 'kind' | 'bucket' | 'limits' | 'capabilities' | 'stalls'>;

/**
 * A decorator's sink: every operation forwarded to `inner` unless `overrides` replaces it, and the
 * properties (label, bucket, limits, capabilities) passed through, so a decorator states only what
 * it changes and a property added to the seam reaches every wrapped sink.
 */
export function decorateSink(inner: ObjectSink, overrides: Partial<Operations>): ObjectSink {
  const copyPart = inner.copyPart;
  return {
    kind: inner.kind,
    bucket: inner.bucket,
    limits: inner.limits,
    capabilities: inner.capabilities,
    stalls: inner.stalls,
    createUpload: (...a) => inner.createUpload(...a),
    uploadPart: (...a) => inner.uploadPart(...a),
    // An optional operation stays absent when the inner sink lacks it: its presence is the capability.
    ...(copyPart ? { copyPart: (...a: Parameters<typeof copyPart>) => copyPart.apply(inner, a) } : {}),
    listParts: (...a) => inner.listParts(...a),
    completeUpload: (...a) => inner.completeUpload(...a),
    abortUpload: (...a) => inner.abortUpload(...a),
    listUploads: (...a) => inner.listUploads(...a),
    head: (...a) => inner.head(...a),
    listObjects: (...a) => inner.listObjects(...a),
    getRange: (...a) => inner.getRange(...a),
    deleteObject: (...a) => inner.deleteObject(...a),
    getTags: (...a) => inner.getTags(...a),
    putTags: (...a) => inner.putTags(...a),
    ...overrides,
  };
}
