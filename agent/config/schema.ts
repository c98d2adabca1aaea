import { parseSize } from '../core/units.js';
import { parseStoreProfiles, type StoreProfile } from './store-profiles.js';

/** The agent's configuration after defaults, file, environment and flags (config/vmxfer.yaml documents each key). */
export interface AgentConfig {
  listen: { host: string; port: number; tls_cert: string; tls_key: string };
  auth: { token_file: string; metrics_token_file: string };
  state_dir: string;
  source_roots: string[];
  /** Where jobs may write (destinations, file:// stores, partial files); empty: `<state_dir>/outputs` (daemon-config.ts). */
  output_roots: string[];
  jobs: { max_concurrent: number; per_destination: number; keep_finished: number };
  transfer: { part_size: number | 'auto'; concurrency: number; bwlimit: number; retries: number; stall_timeout: number };
  pipeline: { workers: number | 'auto'; chunk_size: number };
  stores: { s3_endpoint: string; s3_region: string; s3_path_style: boolean; oss_endpoint: string; oss_region: string };
  /** Named stores (`--store NAME`, or picked by a URL under one of their `urls`). */
  store_profiles: Record<string, StoreProfile>;
  cloud: { aws_region: string; aws_endpoint: string; ecs_region: string; ecs_endpoint: string; poll_seconds: number; retries: number; request_timeout_seconds: number };
  logging: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' };
  /** The shared job store of a fleet of agents (docs/fleet.md); empty url: the embedded store under state_dir. */
  job_store: { url: string; prefix: string; lease_seconds: number };
  /** This agent's name on the jobs it runs; empty: the host name (load-config.ts). */
  agent: { name: string };
}

export const DEFAULTS: AgentConfig = {
  listen: { host: '127.0.0.1', port: 8740, tls_cert: '', tls_key: '' },
  auth: { token_file: '', metrics_token_file: '' },
  /** Empty: $XDG_STATE_HOME/vmxfer or ~/.local/state/vmxfer (load-config.ts), for the CLI and the daemon. */
  state_dir: '',
  source_roots: ['.'],
  output_roots: [],
  jobs: { max_concurrent: 4, per_destination: 2, keep_finished: 500 },
  transfer: { part_size: 'auto', concurrency: 4, bwlimit: 0, retries: 8, stall_timeout: 45 },
  pipeline: { workers: 'auto', chunk_size: 4 * 1024 * 1024 },
  stores: { s3_endpoint: '', s3_region: '', s3_path_style: false, oss_endpoint: '', oss_region: '' },
  store_profiles: {},
  cloud: { aws_region: '', aws_endpoint: '', ecs_region: '', ecs_endpoint: '', poll_seconds: 10, retries: 8, request_timeout_seconds: 60 },
  logging: { level: 'info' },
  job_store: { url: '', prefix: 'vmxfer', lease_seconds: 60 },
  agent: { name: '' },
};

/** A parser per leaf key: takes the raw value (YAML or an environment string) or throws a sentence. */
type Leaf = (raw: unknown) => unknown;

const str: Leaf = (v) => {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error('must be a string');
  return String(v);
};
const int = (min: number, max: number): Leaf => (v) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new Error(`must be an integer from ${min} to ${max}`);
  return n;
};
const bool: Leaf = (v) => {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error('must be true or false');
};
const size = (allowAuto: boolean, min: number): Leaf => (v) => {
  if (allowAuto && (v === 'auto' || v === '' || v === null)) return 'auto';
  if (!allowAuto && (v === '' || v === null || v === undefined)) return 0;
  const n = typeof v === 'number' ? v : parseSize(String(v));
  if (n < min) throw new Error(`must be at least ${min} bytes`);
  return n;
};
/** Chunks must tile a VMDK grain table's 32 MiB span and a qcow2 cluster: a power of two in range. */
const powerOfTwoSize = (min: number, max: number): Leaf => (v) => {
  const n = size(false, min)(v) as number;
  if (n > max || (n & (n - 1)) !== 0) throw new Error(`must be a power of two from ${min} to ${max} bytes`);
  return n;
};
const positiveNumber: Leaf = (v) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new Error('must be a positive number');
  return n;
};
const autoOrInt = (min: number, max: number): Leaf => (v) => (v === 'auto' ? 'auto' : int(min, max)(v));
const oneOf = (...xs: string[]): Leaf => (v) => {
  if (typeof v !== 'string' || !xs.includes(v)) throw new Error(`must be one of ${xs.join(', ')}`);
  return v;
};
const pathList = (allowEmpty: boolean): Leaf => (v) => {
  const list = v === null ? [] : typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x.trim() === '')) throw new Error('must be a list of paths');
  if (!allowEmpty && list.length === 0) throw new Error('must be a non-empty list of paths');
  return list;
};
const strList = pathList(false);
/** Empty, or a URL of a job store this build speaks to (Redis). */
const storeUrl: Leaf = (v) => {
  const s = str(v) as string;
  if (s !== '' && !/^rediss?:\/\/[^/\s]+/.test(s)) throw new Error('must be empty or a redis:// or rediss:// URL');
  return s;
};
/** A key prefix or an agent name: letters, digits and . _ - (they end up in Redis keys and metric labels). */
const token = (allowEmpty: boolean): Leaf => (v) => {
  const s = str(v) as string;
  if ((s === '' && !allowEmpty) || !/^[A-Za-z0-9._-]{0,64}$/.test(s)) throw new Error(`must be ${allowEmpty ? 'empty or ' : ''}1 to 64 letters, digits, dots, underscores or dashes`);
  return s;
};

export const SCHEMA: Record<string, Record<string, Leaf> | Leaf> = {
  listen: { host: str, port: int(0, 65535), tls_cert: str, tls_key: str },
  auth: { token_file: str, metrics_token_file: str },
  state_dir: str,
  source_roots: strList,
  output_roots: pathList(true),
  jobs: { max_concurrent: int(1, 1000), per_destination: int(1, 1000), keep_finished: int(0, 1_000_000) },
  transfer: { part_size: size(true, 100 * 1024), concurrency: int(1, 64), bwlimit: size(false, 0), retries: int(1, 50), stall_timeout: positiveNumber },
  pipeline: { workers: autoOrInt(0, 256), chunk_size: powerOfTwoSize(64 * 1024, 32 * 1024 * 1024) },
  stores: { s3_endpoint: str, s3_region: str, s3_path_style: bool, oss_endpoint: str, oss_region: str },
  store_profiles: parseStoreProfiles,
  cloud: { aws_region: str, aws_endpoint: str, ecs_region: str, ecs_endpoint: str, poll_seconds: positiveNumber, retries: int(1, 50), request_timeout_seconds: positiveNumber },
  logging: { level: oneOf('trace', 'debug', 'info', 'warn', 'error') },
  job_store: { url: storeUrl, prefix: token(false), lease_seconds: int(5, 3600) },
  agent: { name: token(true) },
};
