import { md5Base64 } from './multipart-etag.js';
import { crc64 } from '../hashing/crc64.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import type { RangeDigest } from './download-checkpoint.js';
import { rangeBounds } from './range-plan.js';

export interface RangeSpec {
  sink: ObjectSink;
  key: string;
  size: number;
  rangeSize: number;
  /** Compute CRC-64/XZ of each range (the store reports the object's CRC-64). */
  withCrc64: boolean;
}

export interface FetchedRange {
  digest: RangeDigest;
  start: number;
  data: Buffer;
}

/** One ranged GET (retried by the sink's decorator), with the digests the final verification folds. */
export async function fetchRange(spec: RangeSpec, index: number, signal?: AbortSignal): Promise<FetchedRange> {
  const { start, end } = rangeBounds(index, spec.size, spec.rangeSize);
  const data = await spec.sink.getRange(spec.key, start, end, signal);
  const digest: RangeDigest = { index, md5: md5Base64(data), crc64: spec.withCrc64 ? crc64('xz', data).toString() : undefined };
  return { digest, start, data };
}
