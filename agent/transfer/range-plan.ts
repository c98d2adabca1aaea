import { MiB } from '../core/units.js';
import type { ObjectInfo } from '../sinks/object-sink.js';

export const DEFAULT_RANGE_SIZE = 16 * MiB;
/** Largest range held in memory per GET; memory is concurrency × range size. */
export const MAX_RANGE_SIZE = 64 * MiB;

/** The part size the uploader recorded in the object's metadata (vmxfer uploads only). */
export function recordedPartSize(info: ObjectInfo): number | undefined {
  const text = info.metadata?.['vmxfer-part-size'];
  const n = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Ranges as large as the object's parts when that fits in memory, so each range's MD5 is a part
 * MD5 and the multipart ETag can be recomputed from them; otherwise the default size.
 */
export function chooseRangeSize(info: ObjectInfo, requested?: number): number {
  if (requested !== undefined) return requested;
  const part = recordedPartSize(info);
  if (part !== undefined && part >= MiB && part <= MAX_RANGE_SIZE) return part;
  return DEFAULT_RANGE_SIZE;
}

export function rangeCount(size: number, rangeSize: number): number {
  return Math.ceil(size / rangeSize);
}

export function rangeBounds(index: number, size: number, rangeSize: number): { start: number; end: number } {
  const start = index * rangeSize;
  return { start, end: Math.min(size, start + rangeSize) };
}
