import { createHash } from 'node:crypto';
import { isFingerprintRecord, type SourceFingerprintRecord } from './source-fingerprints.js';

export interface CheckpointPart {
  partNumber: number;
  etag: string;
  size: number;
  /**
   * The part checksum the sink sent (SinkCapabilities.partChecksum), one of these four: a
   * regenerated part must match it before it is skipped, and the whole-object checks fold them.
   * Base64 MD5 of the part body (Content-MD5 stores).
   */
  md5?: string | undefined;
  /** CRC-64/XZ of the body as a decimal string (OSS's x-oss-hash-crc64ecma). */
  crc64?: string | undefined;
  /** CRC-64/NVME of the body, base64 (AWS S3's x-amz-checksum-crc64nvme). */
  crc64nvme?: string | undefined;
  /** CRC-32C of the body, base64 (AWS S3's x-amz-checksum-crc32c). */
  crc32c?: string | undefined;
}

export interface SourceIdentity {
  path: string;
  size: number;
  mtimeMs: number;
  /** xxh64 of each window of the source read so far: a resume re-reads and must find the same. */
  fingerprints?: SourceFingerprintRecord | undefined;
}

/** Everything needed to resume an upload and to prove that nothing it depends on changed. */
export interface UploadCheckpoint {
  id: string;
  version: 1;
  destination: string;
  uploadId: string;
  source: SourceIdentity;
  /** What the encoder needs to regenerate the same bytes (target, level, part size, tool version). */
  options: Record<string, string | number | boolean>;
  parts: CheckpointPart[];
  updatedAt: string;
}

export function checkpointId(sourcePath: string, destination: string): string {
  return createHash('sha256').update(`${sourcePath}\0${destination}`).digest('hex').slice(0, 32);
}

export function isUploadCheckpoint(x: unknown): x is UploadCheckpoint {
  const c = x as UploadCheckpoint;
  return (
    typeof c === 'object' && c !== null && c.version === 1 && typeof c.id === 'string' && typeof c.uploadId === 'string' &&
    typeof c.destination === 'string' && typeof c.source?.path === 'string' && typeof c.source?.size === 'number' &&
    (c.source.fingerprints === undefined || isFingerprintRecord(c.source.fingerprints)) &&
    typeof c.options === 'object' && Array.isArray(c.parts) &&
    c.parts.every((p) => typeof p.partNumber === 'number' && typeof p.etag === 'string' && [p.md5, p.crc64, p.crc64nvme, p.crc32c].some((v) => typeof v === 'string'))
  );
}
