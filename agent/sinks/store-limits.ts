import { GiB, MiB, TiB } from '../core/units.js';
import type { StoreLimits } from './object-sink.js';

/** Amazon S3 "Multipart upload limits": parts 5 MiB-5 GiB (the last may be smaller), 10,000 parts, 5 TiB objects. */
export const S3_LIMITS: StoreLimits = Object.freeze({
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
  maxObjectSize: 5 * TiB,
});

/** OSS "Limits" (UploadPart, CompleteMultipartUpload): parts 100 KB-5 GB (the last may be smaller), 10,000 parts, 48.8 TB objects. */
export const OSS_LIMITS: StoreLimits = Object.freeze({
  minPartSize: 100 * 1024,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
  maxObjectSize: 5 * GiB * 10_000,
});
