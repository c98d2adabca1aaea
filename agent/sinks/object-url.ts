import { fileURLToPath } from 'node:url';
import { basename, dirname } from 'node:path';
import { vmxError } from '../core/errors.js';
import { STORE } from './error-codes.js';
import type { StoreKind } from './object-sink.js';

export interface ObjectUrl {
  kind: StoreKind;
  /** S3/OSS bucket name, or the absolute directory for file://. */
  bucket: string;
  /** Object key ('' when the URL names only a bucket or a prefix ending in '/'). */
  key: string;
}

// S3 "Bucket naming rules": 3-63 characters, lowercase letters, digits, '.' and '-', starting and
// ending with a letter or digit, not shaped like an IPv4 address. OSS "Bucket naming conventions":
// the same without '.'.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const OSS_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** Parses `s3://bucket/key`, `oss://bucket/key` or `file:///absolute/path`. */
export function parseObjectUrl(url: string): ObjectUrl {
  const scheme = /^([a-z0-9]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 's3' || scheme === 'oss') return parseBucketUrl(url, scheme);
  if (scheme === 'file') return parseFileUrl(url);
  throw badUrl(url, 'expected s3://bucket/key, oss://bucket/key or file:///absolute/path');
}

function parseBucketUrl(url: string, kind: 's3' | 'oss'): ObjectUrl {
  const rest = url.slice(url.indexOf('://') + 3);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  const rule = kind === 's3' ? S3_BUCKET : OSS_BUCKET;
  if (!rule.test(bucket) || bucket.includes('..') || IPV4.test(bucket)) {
    throw badUrl(url, `bucket "${bucket}" breaks the ${kind === 's3' ? 'S3' : 'OSS'} bucket naming rules (3-63 lowercase letters, digits${kind === 's3' ? ', dots' : ''} and hyphens, starting and ending with a letter or digit)`);
  }
  if (key.startsWith('/')) throw badUrl(url, 'the key must not start with "/" (write s3://bucket/key)');
  return { kind, bucket, key };
}

function parseFileUrl(url: string): ObjectUrl {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (err) {
    throw badUrl(url, `not a local file URL (${(err as Error).message}); write file:///absolute/path`, err);
  }
  if (url.endsWith('/')) return { kind: 'file', bucket: path.replace(/\/+$/, '') || '/', key: '' };
  return { kind: 'file', bucket: dirname(path), key: basename(path) };
}

function badUrl(url: string, rule: string, cause?: unknown) {
  return vmxError(STORE.BAD_URL, `object URL "${url}": ${rule}`, { cause });
}
