import { isAbsolute, join, relative, sep } from 'node:path';
import { vmxError } from '../../core/errors.js';
import { STORE } from '../error-codes.js';

/** Directories the file sink keeps its own state in, at the root of the bucket directory. */
export const UPLOADS_DIR = '.vmxfer-uploads';
export const META_DIR = '.vmxfer-meta';
const RESERVED = new Set([UPLOADS_DIR, META_DIR]);

/**
 * Maps an object key to a path inside the bucket directory. Keys are '/'-separated relative paths;
 * absolute keys, empty, '.' or '..' segments, NUL bytes and the sink's own state directories are
 * refused so that no key can name a file outside the bucket or clobber the sink's state.
 */
export function keyToPath(root: string, key: string): string {
  const segments = key.split('/');
  const bad =
    key.length === 0 ? 'is empty'
    : key.startsWith('/') || isAbsolute(key) ? 'is absolute'
    : key.includes('\0') ? 'contains a NUL byte'
    : segments.some((s) => s === '' || s === '.' || s === '..') ? 'has an empty, "." or ".." segment'
    : RESERVED.has(segments[0]!) ? `starts with the reserved directory "${segments[0]}"`
    : undefined;
  if (bad) throw vmxError(STORE.BAD_KEY, `object key "${key}" ${bad}`, { file: root });
  const path = join(root, ...segments);
  const rel = relative(root, path);
  if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep)[0] === '..') {
    throw vmxError(STORE.BAD_KEY, `object key "${key}" resolves outside the bucket directory`, { file: root });
  }
  return path;
}

/** Where the sidecar with an object's ETag, metadata and tags lives. */
export function metaPath(root: string, key: string): string {
  keyToPath(root, key);
  return join(root, META_DIR, ...key.split('/')) + '.json';
}
