import { vmxError } from '../../core/errors.js';
import type { ListedObject, PartRef, PendingUpload } from '../object-sink.js';
import { STORE } from '../error-codes.js';
import { bareEtag } from '../part-rules.js';
import { OSS_LIMITS } from '../store-limits.js';

/**
 * Validation of ListParts and ListMultipartUploads result entries (OSS API reference, "Response
 * elements"), as ali-oss hands them over from xml2js: one entry is an object, several an array,
 * and every value a string that must be checked before it is trusted.
 */

const MAX_PART_NUMBER = OSS_LIMITS.maxParts;

export function asArray<T>(v: T | T[] | undefined | null): T[] {
  if (v === undefined || v === null || (v as unknown) === '') return [];
  return Array.isArray(v) ? v : [v];
}

function badResponse(target: string, sentence: string): never {
  throw vmxError(STORE.BAD_RESPONSE, sentence, { file: target });
}

function nonNegativeInt(target: string, what: string, raw: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const s = String(raw ?? '');
  const n = Number(s);
  if (!/^\d{1,16}$/.test(s) || n > max) badResponse(target, `ListParts returned ${what} "${s.slice(0, 40)}", not an integer in 0..${max}`);
  return n;
}

interface RawPart {
  PartNumber?: unknown;
  ETag?: unknown;
  Size?: unknown;
  HashCrc64ecma?: unknown;
}

export function partFromListing(target: string, raw: RawPart): PartRef {
  const partNumber = nonNegativeInt(target, 'PartNumber', raw.PartNumber, MAX_PART_NUMBER);
  if (partNumber < 1) badResponse(target, 'ListParts returned part number 0');
  const size = nonNegativeInt(target, `Size of part ${partNumber}`, raw.Size);
  if (typeof raw.ETag !== 'string' || raw.ETag === '') badResponse(target, `ListParts returned no ETag for part ${partNumber}`);
  const crc = typeof raw.HashCrc64ecma === 'string' && /^\d{1,20}$/.test(raw.HashCrc64ecma) ? raw.HashCrc64ecma : undefined;
  return { partNumber, etag: raw.ETag, size, checksums: crc ? { crc64ecma: crc } : undefined };
}

export interface RawUpload {
  name?: unknown;
  uploadId?: unknown;
  initiated?: unknown;
}

export function uploadFromListing(target: string, raw: RawUpload): PendingUpload {
  if (typeof raw.name !== 'string' || typeof raw.uploadId !== 'string' || raw.uploadId === '') {
    badResponse(target, 'ListMultipartUploads returned an upload without Key or UploadId');
  }
  const when = typeof raw.initiated === 'string' ? new Date(raw.initiated) : undefined;
  return { key: raw.name, uploadId: raw.uploadId, initiated: when && !Number.isNaN(when.getTime()) ? when : undefined };
}

export interface RawObject {
  name?: unknown;
  size?: unknown;
  lastModified?: unknown;
  etag?: unknown;
}

/** One ListObjects "Contents" entry as ali-oss's list() hands it over; the ETag bare lower-case hex, as everywhere in the seam. */
export function objectFromListing(target: string, raw: RawObject): ListedObject {
  if (typeof raw.name !== 'string' || raw.name === '') badResponse(target, 'ListObjects returned an object without a Key');
  const size = Number(raw.size);
  if (!Number.isSafeInteger(size) || size < 0) badResponse(target, `ListObjects returned Size "${String(raw.size).slice(0, 40)}" for ${raw.name}`);
  const when = new Date(typeof raw.lastModified === 'string' ? raw.lastModified : NaN);
  if (Number.isNaN(when.getTime())) badResponse(target, `ListObjects returned no valid LastModified for ${raw.name}`);
  return { key: raw.name, size, lastModified: when, etag: bareEtag(typeof raw.etag === 'string' ? raw.etag.trim() : undefined).toLowerCase() };
}
