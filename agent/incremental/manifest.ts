import { vmxError } from '../core/errors.js';
import { MiB } from '../core/units.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import { INCR } from './error-codes.js';
import { blockCount, partDigest } from './block-digests.js';

/** Beside KEY: what the next incremental pass compares the new source with. */
export const MANIFEST_SUFFIX = '.vmxfer-manifest';

/** 10,000 parts of ~200 bytes of JSON each fit in a few MiB, plus 44 bytes of Base64 per 512 KiB block; anything larger is not ours. */
const MANIFEST_BASE_BYTES = 16 * MiB;

/** The largest manifest an object of `objectSize` bytes can have. */
export function maxManifestBytes(objectSize: number): number {
  return MANIFEST_BASE_BYTES + blockCount(objectSize) * 48;
}

export interface ManifestPart {
  partNumber: number;
  size: number;
  /** The part's sha256-linear-512k digest (hex): SHA-256 over `blocks`, what the next pass compares. */
  sha256: string;
  /**
   * Base64 of the SHA-256s (32 bytes each) of the part's 512 KiB blocks: a pass that reads only the
   * changed parts builds the object's digest tags from them (docs/integrity.md).
   */
  blocks: string;
  /** The store's ETag for the part (the MD5 of its bytes on S3, OSS and the file store). */
  etag: string;
}

export interface IncrementalManifest {
  /** 2: parts carry block digests (a version-1 manifest of an older vmxfer is not used: a full pass). */
  version: 2;
  key: string;
  /** The output format (--to) the object holds. */
  as: string;
  partSize: number;
  objectSize: number;
  /** The store's ETag of the object the parts make: a different one means the object was replaced or edited. */
  objectEtag: string;
  source: { path: string; size: number; mtimeMs: number };
  parts: ManifestPart[];
  writtenAt: string;
}

export function manifestKey(key: string): string {
  return `${key}${MANIFEST_SUFFIX}`;
}

/** The manifest beside `key`, or undefined when there is none; `objectSize` (of the object at `key`) bounds its size. */
export async function readManifest(sink: ObjectSink, key: string, objectSize: number, signal?: AbortSignal): Promise<IncrementalManifest | undefined> {
  const mkey = manifestKey(key);
  const info = await sink.head(mkey, signal);
  if (!info) return undefined;
  const where = `${sink.kind}://${sink.bucket}/${mkey}`;
  const max = maxManifestBytes(objectSize);
  if (info.size > max) throw vmxError(INCR.MANIFEST_CORRUPT, `the manifest has ${info.size} bytes, more than the ${max} the manifest of a ${objectSize}-byte object needs`, { file: where });
  const raw = await sink.getRange(mkey, 0, info.size, signal);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw vmxError(INCR.MANIFEST_CORRUPT, `the manifest is not JSON: ${(err as Error).message}`, { file: where });
  }
  return checkManifest(parsed, key, where);
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const HEX64 = /^[0-9a-f]{64}$/;

/** Every field the planner trusts, checked: parts numbered 1..N, each partSize long but the last, summing to objectSize. */
export function checkManifest(x: unknown, key: string, where: string): IncrementalManifest {
  const m = x as IncrementalManifest;
  const bad = (field: string, rule: string) => vmxError(INCR.MANIFEST_CORRUPT, `field ${field}: ${rule}`, { file: where });
  if (typeof m !== 'object' || m === null) throw bad('version', 'must be 2');
  if ((m as { version: unknown }).version === 1) throw bad('version', 'is 1: written by an older vmxfer, without the block digests this one needs');
  if (m.version !== 2) throw bad('version', 'must be 2');
  if (m.key !== key) throw bad('key', `names "${String(m.key)}", not "${key}"`);
  if (typeof m.as !== 'string') throw bad('as', 'must be a string');
  if (!isCount(m.partSize) || m.partSize === 0) throw bad('partSize', 'must be a positive integer');
  if (!isCount(m.objectSize)) throw bad('objectSize', 'must be a non-negative integer');
  if (typeof m.objectEtag !== 'string' || m.objectEtag === '') throw bad('objectEtag', 'must be a non-empty string');
  if (typeof m.source !== 'object' || m.source === null || typeof m.source.path !== 'string' || !isCount(m.source.size)) throw bad('source', 'must name a path and a size');
  if (!Array.isArray(m.parts)) throw bad('parts', 'must be an array');
  let total = 0;
  m.parts.forEach((p, i) => {
    const at = `parts[${i}]`;
    if (p?.partNumber !== i + 1) throw bad(`${at}.partNumber`, `must be ${i + 1}`);
    if (!isCount(p.size) || p.size > m.partSize || (i < m.parts.length - 1 && p.size !== m.partSize)) throw bad(`${at}.size`, `must be ${m.partSize} (at most that for the last part)`);
    if (typeof p.sha256 !== 'string' || !HEX64.test(p.sha256)) throw bad(`${at}.sha256`, 'must be 64 lower-case hex digits');
    if (typeof p.etag !== 'string') throw bad(`${at}.etag`, 'must be a string');
    const blocks = typeof p.blocks === 'string' ? Buffer.from(p.blocks, 'base64') : undefined;
    if (!blocks || blocks.length !== blockCount(p.size) * 32 || blocks.toString('base64') !== p.blocks) throw bad(`${at}.blocks`, `must be the Base64 of ${blockCount(p.size)} SHA-256s`);
    if (partDigest(blocks) !== p.sha256) throw bad(`${at}.sha256`, 'is not the SHA-256 of the part\'s block digests');
    total += p.size;
  });
  if (total !== m.objectSize) throw bad('parts', `sizes add up to ${total}, not objectSize ${m.objectSize}`);
  return m;
}

/** Stores the manifest as a one-part object beside `key` (every sink has multipart, not all a single PUT). */
export async function writeManifest(sink: ObjectSink, manifest: IncrementalManifest, signal?: AbortSignal): Promise<void> {
  const mkey = manifestKey(manifest.key);
  const body = Buffer.from(JSON.stringify(manifest));
  const uploadId = await sink.createUpload(mkey, { contentType: 'application/json' }, signal);
  try {
    const part = await sink.uploadPart(mkey, uploadId, 1, body, signal);
    await sink.completeUpload(mkey, uploadId, [part], signal);
  } catch (err) {
    await sink.abortUpload(mkey, uploadId).catch(() => undefined);
    throw err;
  }
}
