import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { vmxError } from '../core/errors.js';
import type { AgentConfig } from '../config/schema.js';
import { API } from './error-codes.js';

/** The shortest token accepted from any source: 16 characters keep a guess out of reach of an online attack. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Where the daemon's token comes from: the configured file, VMXFER_TOKEN, or one generated once. Every
 * source is held to the same rule: at least 16 characters, no whitespace (API_WEAK_TOKEN otherwise), so
 * an empty or one-character token never opens the API or the feed.
 */
export async function loadToken(config: AgentConfig, env: NodeJS.ProcessEnv, stateDir: string): Promise<{ token: string; origin: string }> {
  if (config.auth.token_file) return { token: await readTokenFile(config.auth.token_file), origin: 'auth.token_file' };
  if (env.VMXFER_TOKEN !== undefined && env.VMXFER_TOKEN !== '') return { token: strongToken(env.VMXFER_TOKEN, 'VMXFER_TOKEN'), origin: 'VMXFER_TOKEN' };
  const file = join(stateDir, 'token');
  const existing = await readFile(file, 'utf8').then((t) => t, () => undefined);
  if (existing !== undefined && existing.trim() !== '') return { token: strongToken(existing, file), origin: file };
  const token = randomBytes(32).toString('base64url');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // 'wx': never replace a token another process wrote between our read and this write.
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' }).catch(async () => undefined);
  await chmod(file, 0o600);
  return { token: strongToken(await readFile(file, 'utf8'), file), origin: file };
}

/**
 * The read-only token for GET /metrics (a scraper's): auth.metrics_token_file, else VMXFER_METRICS_TOKEN,
 * else none. It opens nothing else, so it must not be the API token.
 */
export async function loadMetricsToken(config: AgentConfig, env: NodeJS.ProcessEnv, apiToken: string): Promise<string | undefined> {
  const file = config.auth.metrics_token_file;
  const token = file ? await readTokenFile(file) : env.VMXFER_METRICS_TOKEN ? strongToken(env.VMXFER_METRICS_TOKEN, 'VMXFER_METRICS_TOKEN') : undefined;
  if (token !== undefined && tokenMatches(token, apiToken)) {
    throw vmxError(API.WEAK_TOKEN, `the metrics token from ${file || 'VMXFER_METRICS_TOKEN'} is the API token: a scraper holding it could submit and cancel jobs`);
  }
  return token;
}

export async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw vmxError(API.TOKEN_FILE, `cannot read the token file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { file });
  }
  return strongToken(text, file);
}

/** One token (surrounding whitespace, such as a file's last newline, ignored) of at least MIN_TOKEN_LENGTH characters without whitespace. */
export function strongToken(text: string, origin: string): string {
  const token = text.trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw vmxError(API.WEAK_TOKEN, `the API token from ${origin} must be one token of at least ${MIN_TOKEN_LENGTH} characters without whitespace (got ${token === '' ? 'nothing but whitespace' : `${token.length} characters${/\s/.test(token) ? ' with whitespace' : ''}`})`);
  }
  return token;
}

/**
 * Compares in constant time: both sides are hashed to 32 bytes first, so neither the token's
 * length nor the position of the first differing byte shows in the timing.
 */
export function tokenMatches(candidate: string, token: string): boolean {
  const a = createHash('sha256').update(candidate).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && tokenMatches(m[1]!, token);
}
