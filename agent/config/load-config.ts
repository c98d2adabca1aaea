import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { vmxError } from '../core/errors.js';
import { CONFIG } from './error-codes.js';
import { DEFAULTS, SCHEMA, type AgentConfig } from './schema.js';

/**
 * Defaults, then the YAML file, then VMXFER_* environment variables, then explicit overrides (flags).
 * Every key is validated; the error names the key and where its value came from.
 */
export async function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
): Promise<AgentConfig> {
  const config = structuredClone(DEFAULTS) as unknown as Record<string, any>;
  if (file) apply(config, await readYaml(file), file);
  for (const [path] of leaves()) {
    const name = `VMXFER_${path.replace(/\./g, '_').toUpperCase()}`;
    if (env[name] !== undefined) setLeaf(config, path, env[name], `environment variable ${name}`);
  }
  for (const [path, value] of Object.entries(overrides)) if (value !== undefined) setLeaf(config, path, value, `flag for ${path}`);
  return config as AgentConfig;
}

async function readYaml(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw vmxError(CONFIG.UNREADABLE, `cannot read the configuration: ${(err as Error).message}`, { file, cause: err });
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw vmxError(CONFIG.UNREADABLE, `not valid YAML: ${(err as Error).message}`, { file, cause: err });
  }
}

function apply(config: Record<string, any>, doc: unknown, file: string, prefix = ''): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw vmxError(CONFIG.BAD_VALUE, `${prefix || 'the document'} must be a mapping of keys`, { file });
  }
  for (const [key, value] of Object.entries(doc)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const schema = lookup(path);
    if (!schema) throw vmxError(CONFIG.UNKNOWN_KEY, `unknown key "${path}" (known: ${knownKeys(prefix).join(', ')})`, { file });
    if (typeof schema === 'function') setLeaf(config, path, value, file);
    else apply(config, value, file, path);
  }
}

function setLeaf(config: Record<string, any>, path: string, raw: unknown, source: string): void {
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

function* leaves(node: Record<string, unknown> = SCHEMA, prefix = ''): Generator<[string, unknown]> {
  for (const [k, v] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'function') yield [path, v];
    else yield* leaves(v as Record<string, unknown>, path);
  }
}
