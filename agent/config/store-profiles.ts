import { parse as parseYaml } from 'yaml';
import { vmxError } from '../core/errors.js';
import { CONFIG } from './error-codes.js';
import type { AgentConfig } from './schema.js';
import type { StoreConnection } from '../sinks/open-sink.js';
import { S3_PART_CHECKSUMS, type S3PartChecksum } from '../sinks/s3/s3-checksum.js';

/** A named store: how to reach one S3-compatible or OSS service, and the URLs that use it by default. */
export interface StoreProfile {
  endpoint: string;
  region: string;
  path_style: boolean;
  /** S3 part checksum: md5, crc32c or crc64nvme ('' = by endpoint: crc32c on AWS, md5 elsewhere; docs/integrity.md). */
  checksum: '' | S3PartChecksum;
  /** URL prefixes (s3://bucket, oss://bucket/prefix) whose objects live on this store. */
  urls: string[];
}

const PROFILE_KEYS = ['endpoint', 'region', 'path_style', 'checksum', 'urls'];

/** The `store_profiles` leaf: a mapping of name → profile, from YAML or (VMXFER_STORE_PROFILES) a YAML/JSON string. */
export function parseStoreProfiles(raw: unknown): Record<string, StoreProfile> {
  const doc = typeof raw === 'string' ? (parseYaml(raw) ?? {}) : (raw ?? {});
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('must be a mapping of store names to stores');
  const out: Record<string, StoreProfile> = {};
  for (const [name, p] of Object.entries(doc as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`store name "${name}" must be letters, digits, ".", "_" or "-"`);
    out[name] = parseProfile(name, p);
  }
  return out;
}

function parseProfile(name: string, p: unknown): StoreProfile {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error(`store "${name}" must be a mapping (${PROFILE_KEYS.join(', ')})`);
  const o = p as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !PROFILE_KEYS.includes(k));
  if (unknown) throw new Error(`store "${name}" has unknown key "${unknown}" (known: ${PROFILE_KEYS.join(', ')})`);
  const text = (k: string) => {
    if (o[k] === undefined || o[k] === null) return '';
    if (typeof o[k] !== 'string') throw new Error(`store "${name}": ${k} must be a string`);
    return o[k] as string;
  };
  if (o.path_style !== undefined && typeof o.path_style !== 'boolean') throw new Error(`store "${name}": path_style must be true or false`);
  const urls = o.urls ?? [];
  if (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string' || !/^[a-z0-9]+:\/\/[^/]+/.test(u))) {
    throw new Error(`store "${name}": urls must be a list of URL prefixes such as s3://bucket`);
  }
  const checksum = text('checksum');
  if (checksum !== '' && !(S3_PART_CHECKSUMS as readonly string[]).includes(checksum)) throw new Error(`store "${name}": checksum must be one of ${S3_PART_CHECKSUMS.join(', ')}`);
  return { endpoint: text('endpoint'), region: text('region'), path_style: o.path_style === true, checksum: checksum as '' | S3PartChecksum, urls: urls as string[] };
}

/** The profile whose longest URL prefix covers `url` (a prefix matches whole path segments only). */
export function profileForUrl(url: string, profiles: Record<string, StoreProfile>): [string, StoreProfile] | undefined {
  let best: [string, StoreProfile, number] | undefined;
  for (const [name, p] of Object.entries(profiles)) {
    for (const prefix of p.urls) {
      const base = prefix.replace(/\/+$/, '');
      if ((url === base || url.startsWith(`${base}/`)) && (!best || base.length > best[2])) best = [name, p, base.length];
    }
  }
  return best && [best[0], best[1]];
}

/** `--store NAME`, else the profile the URL falls under, else none. */
export function pickProfile(url: string, config: AgentConfig, name: string | undefined): [string, StoreProfile] | undefined {
  if (name === undefined) return profileForUrl(url, config.store_profiles);
  const p = config.store_profiles[name];
  if (!p) {
    const known = Object.keys(config.store_profiles);
    throw vmxError(CONFIG.BAD_VALUE, `no store named "${name}" in store_profiles (${known.length ? `known: ${known.join(', ')}` : 'none is configured'})`);
  }
  return [name, p];
}

/**
 * Store connection settings for a URL: the named or URL-matched store profile, else the `stores` section
 * (empty values defer to each SDK's sources). CLI and daemon both resolve connections here.
 */
export function connectionFor(url: string, config: AgentConfig, storeName?: string): StoreConnection {
  const stallTimeoutMs = config.transfer.stall_timeout * 1000;
  const picked = pickProfile(url, config, storeName);
  if (picked) {
    const p = picked[1];
    return { endpoint: p.endpoint || undefined, region: p.region || undefined, pathStyle: p.path_style || undefined, checksum: p.checksum || undefined, stallTimeoutMs };
  }
  const oss = url.startsWith('oss://');
  const s = config.stores;
  return oss
    ? { endpoint: s.oss_endpoint || undefined, region: s.oss_region || undefined, pathStyle: s.s3_path_style || undefined, stallTimeoutMs }
    : { endpoint: s.s3_endpoint || undefined, region: s.s3_region || undefined, pathStyle: s.s3_path_style || undefined, stallTimeoutMs };
}
