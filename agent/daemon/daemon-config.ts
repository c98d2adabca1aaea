import { isAbsolute, join, resolve } from 'node:path';
import { loadConfig, loadConfigSync, type ConfigOrigins } from '../config/load-config.js';
import type { AgentConfig } from '../config/schema.js';
import { WorkerPool } from '../pipeline/worker-pool.js';

export interface DaemonConfigSource {
  file: string | undefined;
  env: NodeJS.ProcessEnv;
  /** `--listen` and `--state-dir` as config paths. */
  overrides: Record<string, unknown>;
}

/** Loads the configuration and makes every path in it absolute (relative to the daemon's start directory). */
export async function loadDaemonConfig(src: DaemonConfigSource): Promise<AgentConfig> {
  return absolutePaths(await loadConfig(src.file, src.env, src.overrides));
}

/** The same configuration for a CLI command (store connections, state directory, `config show`). */
export function loadConfigForCli(src: DaemonConfigSource, origins?: ConfigOrigins): AgentConfig {
  return absolutePaths(loadConfigSync(src.file, src.env, src.overrides, origins));
}

function absolutePaths(c: AgentConfig): AgentConfig {
  const abs = (p: string) => (p && !isAbsolute(p) ? resolve(p) : p);
  c.state_dir = abs(c.state_dir);
  c.source_roots = c.source_roots.map((r) => ({ ...r, path: abs(r.path) }));
  c.output_roots = c.output_roots.length ? c.output_roots.map(abs) : [defaultOutputRoot(c.state_dir)];
  c.auth.token_file = abs(c.auth.token_file);
  c.listen.tls_cert = abs(c.listen.tls_cert);
  c.listen.tls_key = abs(c.listen.tls_key);
  return c;
}

/** Where jobs write when output_roots is not set: a directory of the state directory (created at start). */
export function defaultOutputRoot(stateDir: string): string {
  return join(stateDir, 'outputs');
}

/** `--listen HOST:PORT` (IPv6 as [addr]:port) to config overrides. */
export function parseListen(text: string): { 'listen.host': string; 'listen.port': string } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new Error(`--listen expects HOST:PORT, got "${text}"`);
  return { 'listen.host': (m[1] ?? m[2])!, 'listen.port': m[3]! };
}

export function workerThreads(config: AgentConfig): number {
  return config.pipeline.workers === 'auto' ? WorkerPool.defaultThreads() : config.pipeline.workers;
}
