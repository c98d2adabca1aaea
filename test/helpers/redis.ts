import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run-command.js';
import { REPO_ROOT } from './tmp.js';

export interface RedisEnv {
  url: string;
  port: number;
  stateDir: string;
}

/** The machine's one test Redis (scripts/redis/start.sh is idempotent); tests keep apart by key prefix. */
export const REDIS_STATE_DIR = join(REPO_ROOT, '.tmp', 'redis');

let shared: Promise<RedisEnv> | undefined;

async function start(stateDir: string, port?: number): Promise<RedisEnv> {
  await run('bash', [join(REPO_ROOT, 'scripts', 'redis', 'start.sh'), stateDir], port ? { env: { ...process.env, REDIS_PORT: String(port) } } : {});
  const vars = Object.fromEntries((await readFile(join(stateDir, 'env'), 'utf8')).split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  return { url: vars.URL!, port: Number(vars.PORT), stateDir };
}

/** Starts (or finds running) the shared loopback Redis. */
export function ensureRedis(): Promise<RedisEnv> {
  shared ??= start(REDIS_STATE_DIR);
  return shared;
}

/** A Redis of the caller's own, for tests that stop and restart the server. */
export async function privateRedis(label: string): Promise<RedisEnv & { stop(keepData?: boolean): Promise<void>; restart(): Promise<void> }> {
  const stateDir = join(REPO_ROOT, '.tmp', `redis-${label}-${randomBytes(3).toString('hex')}`);
  const env = await start(stateDir);
  const stop = async (keepData = false) => {
    await run('bash', [join(REPO_ROOT, 'scripts', 'redis', 'stop.sh'), stateDir, ...(keepData ? ['--keep-data'] : [])]);
  };
  return { ...env, stop, restart: async () => void (await start(stateDir, env.port)) };
}

/** A key prefix no other test uses. */
export function redisPrefix(label: string): string {
  return `vmxfer-test-${label}-${randomBytes(4).toString('hex')}`;
}
