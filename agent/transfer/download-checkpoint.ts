import { createHash } from 'node:crypto';

/** Digests of one completed range, kept so the whole object can be verified without reading it again. */
export interface RangeDigest {
  index: number;
  /** Base64 MD5 of the range. */
  md5: string;
  /** CRC-64/XZ as a decimal string, when the store reports the object's CRC-64 (OSS). */
  crc64?: string | undefined;
}

/** A download in progress: which ranges of which object version already sit in the partial file. */
export interface DownloadCheckpoint {
  id: string;
  version: 1;
  kind: 'download';
  source: string;
  destination: string;
  partial: string;
  object: { size: number; etag: string };
  rangeSize: number;
  ranges: RangeDigest[];
  updatedAt: string;
}

export function downloadCheckpointId(url: string, partial: string): string {
  return 'dl-' + createHash('sha256').update(`${url}\0${partial}`).digest('hex').slice(0, 32);
}

export function isDownloadCheckpoint(x: unknown): x is DownloadCheckpoint {
  const c = x as DownloadCheckpoint;
  return (
    typeof c === 'object' && c !== null && c.version === 1 && c.kind === 'download' && typeof c.id === 'string' &&
    typeof c.source === 'string' && typeof c.partial === 'string' && typeof c.object?.size === 'number' &&
    typeof c.object?.etag === 'string' && Number.isSafeInteger(c.rangeSize) && c.rangeSize > 0 && Array.isArray(c.ranges) &&
    c.ranges.every((r) => Number.isSafeInteger(r.index) && r.index >= 0 && typeof r.md5 === 'string')
  );
}
