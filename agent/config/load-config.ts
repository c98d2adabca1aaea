import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { vmxError } from '../core/errors.js';
import { CONFIG } from './error-codes.js';
import { defaultAgentName, defaultStateDir } from './default-paths.js';
import { DEFAULTS, SCHEMA, type AgentConfig } from './schema.js';

/** Where each leaf's value came from: "default", the file's path, "environment variable VMXFER_<KEY>" or "flag for <key>". */
export type ConfigOrigins = Map<string, string>;

/**
 * Defaults, then the YAML file, then VMXFER_* environment variables, then explicit overrides (flags).
 * Every key is validated; the error names the key and where its value came from.
 */
export async function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
  origins: ConfigOrigins = new Map(),
): Promise<AgentConfig> {
  return buildConfig(file ? parseDoc(await readText(file), file) : undefined, file, env, overrides, origins);
}

/** loadConfig for the CLI's synchronous option parsing (the same layers and checks). */
export function loadConfigSync(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
  origins: ConfigOrigins = new Map(),
): AgentConfig {
  let text: string | undefined;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw unreadable(file, err);
    }
  }
  return buildConfig(text === undefined ? undefined : parseDoc(text, file!), file, env, overrides, origins);
}

function buildConfig(doc: unknown, file: string | undefined, env: NodeJS.ProcessEnv, overrides: Record<string, unknown>, origins: ConfigOrigins): AgentConfig {
  const config = structuredClone(DEFAULTS) as unknown as Record<string, any>;
  for (const [path] of leaves()) origins.set(path, 'default');
  if (file) apply(config, doc, file, origins);
  for (const [path] of leaves()) {
    const name = `VMXFER_${path.replace(/\./g, '_').toUpperCase()}`;
    if (env[name] !== undefined) setLeaf(config, path, env[name], `environment variable ${name}`, origins);
  }
  for (const [path, value] of Object.entries(overrides)) if (value !== undefined) setLeaf(config, path, value, `flag for ${path}`, origins);
  // One default for the CLI and the daemon: checkpoints, job store and the generated token in one place.
  if (!config.state_dir) config.state_dir = defaultStateDir(env);
  if (!config.agent.name) config.agent.name = defaultAgentName();
  return config as AgentConfig;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw unreadable(file, err);
  }
}

function unreadable(file: string, err: unknown): Error {
  return vmxError(CONFIG.UNREADABLE, `cannot read the configuration: ${(err as Error).message}`, { file, cause: err });
}

function parseDoc(text: string, file: string): unknown {
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw vmxError(CONFIG.UNREADABLE, `not valid YAML: ${(err as Error).message}`, { file, cause: err });
  }
}

function apply(config: Record<string, any>, doc: unknown, file: string, origins: ConfigOrigins, prefix = ''): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw vmxError(CONFIG.BAD_VALUE, `${prefix || 'the document'} must be a mapping of keys`, { file });
  }
  for (const [key, value] of Object.entries(doc)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const schema = lookup(path);
    if (!schema) throw vmxError(CONFIG.UNKNOWN_KEY, `unknown key "${path}" (known: ${knownKeys(prefix).join(', ')})`, { file });
    if (typeof schema === 'function') setLeaf(config, path, value, file, origins);
    else apply(config, value, file, origins, path);
  }
}

function setLeaf(config: Record<string, any>, path: string, raw: unknown, source: string, origins: ConfigOrigins): void {
  const leaf = lookup(path);
  if (typeof leaf !== 'function') throw vmxError(CONFIG.UNKNOWN_KEY, `unknown key "${path}" (from ${source})`);
  let value: unknown;
  try {
    value = leaf(raw);
  } catch (err) {
    throw vmxError(CONFIG.BAD_VALUE, `key "${path}" ${(err as Error).message} (got ${JSON.stringify(raw)} from ${source})`);
  }
  const parts = path.split('.');
  let node = config;
  for (const p of parts.slice(0, -1)) node = node[p];
  node[parts[parts.length - 1]!] = value;
  origins.set(path, source);
}

function lookup(path: string): unknown {
  let node: unknown = SCHEMA;
  for (const p of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, p)) return undefined;
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}

function knownKeys(prefix: string): string[] {
  const node = prefix ? lookup(prefix) : SCHEMA;
  return typeof node === 'object' && node ? Object.keys(node) : [];
}

export function* leaves(node: Record<string, unknown> = SCHEMA, prefix = ''): Generator<[string, unknown]> {
  for (const [k, v] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'function') yield [path, v];
    else yield* leaves(v as Record<string, unknown>, path);
  }
}
