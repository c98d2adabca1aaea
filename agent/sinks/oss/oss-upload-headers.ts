import { vmxError } from '../../core/errors.js';
import type { UploadOptions } from '../object-sink.js';
import { STORE } from '../error-codes.js';

/**
 * Request headers of InitiateMultipartUpload (OSS API reference, InitiateMultipartUpload "Request
 * headers"): x-oss-storage-class, x-oss-server-side-encryption (+ -key-id for KMS), x-oss-tagging.
 * User metadata goes through ali-oss's `meta` option as x-oss-meta-* headers.
 */

const STORAGE_CLASSES = new Set(['Standard', 'IA', 'Archive', 'ColdArchive', 'DeepColdArchive']);
const ENCRYPTIONS = new Set(['AES256', 'KMS', 'SM4']);
/** OSS object tagging: at most 10 tags, keys up to 128 characters, values up to 256. */
const MAX_TAGS = 10;
/** Header values must be printable ASCII to survive signing and transport unchanged. */
const HEADER_SAFE = /^[\x20-\x7e]*$/;
const META_NAME = /^[a-z0-9-]{1,128}$/;

function bad(target: string, sentence: string): never {
  throw vmxError(STORE.BAD_OPTION, sentence, { file: target });
}

export function initiateHeaders(target: string, opts: UploadOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (opts.storageClass !== undefined) {
    if (!STORAGE_CLASSES.has(opts.storageClass)) bad(target, `storage class "${opts.storageClass}" is not one of ${[...STORAGE_CLASSES].join(', ')}`);
    headers['x-oss-storage-class'] = opts.storageClass;
  }
  if (opts.encryption) {
    const { algorithm, kmsKeyId } = opts.encryption;
    if (!ENCRYPTIONS.has(algorithm)) bad(target, `server-side encryption "${algorithm}" is not one of AES256, KMS, SM4`);
    if (kmsKeyId !== undefined && algorithm !== 'KMS') bad(target, 'a KMS key id needs server-side encryption KMS');
    headers['x-oss-server-side-encryption'] = algorithm;
    if (kmsKeyId !== undefined) headers['x-oss-server-side-encryption-key-id'] = kmsKeyId;
  }
  const tags = Object.entries(opts.tags ?? {});
  if (tags.length > MAX_TAGS) bad(target, `${tags.length} tags given; OSS allows at most ${MAX_TAGS} per object`);
  for (const [k, v] of tags) {
    if (k.length === 0 || k.length > 128 || v.length > 256) bad(target, `tag "${k.slice(0, 40)}" breaks OSS's limits (key 1-128, value 0-256 characters)`);
  }
  if (tags.length > 0) headers['x-oss-tagging'] = new URLSearchParams(tags).toString();
  return headers;
}

/** Validates metadata for x-oss-meta-* headers: lower-case names, printable ASCII values. */
export function metadataHeaders(target: string, metadata: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!metadata) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    const name = k.toLowerCase();
    if (!META_NAME.test(name)) bad(target, `metadata name "${k}" must be letters, digits and hyphens (x-oss-meta-* header)`);
    if (!HEADER_SAFE.test(v)) bad(target, `metadata "${k}" has a value that is not printable ASCII`);
    out[name] = v;
  }
  return out;
}
