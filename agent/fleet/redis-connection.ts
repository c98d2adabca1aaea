import { Redis, type RedisOptions } from 'ioredis';
import { vmxError, VmxferError } from '../core/errors.js';
import { FLEET } from './error-codes.js';

/**
 * What a connection is for. `engine`: BullMQ's, which must wait for the server forever
 * (`maxRetriesPerRequest: null`, BullMQ docs "Going to production"). `commands`: our own record
 * writes, which fail at once while the server is away (no offline queue, nothing re-sent), so that a
 * WATCH/MULTI/EXEC is never replayed on a new connection without its WATCH. `subscriber`: the change feed.
 */
export type RedisRole = 'engine' | 'commands' | 'subscriber';

/** Reconnect forever: 100 ms doubling to at most 5 s between attempts. */
export function reconnectDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt - 1, 6), 5000);
}

/** Checks a job_store.url: redis:// or rediss://, with a host. */
export function parseRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw vmxError(FLEET.STORE_URL, `job_store.url "${url.replace(/\/\/[^@/]*@/, '//***@')}" is not a URL`);
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) {
    throw vmxError(FLEET.STORE_URL, `job_store.url "${redactUrl(url)}" must be redis://host:port or rediss://host:port`);
  }
  return u;
}

/** Options of one connection of `role` to the server at `url` (the URL's password and db included). */
export function redisOptions(role: RedisRole, name?: string): RedisOptions {
  const base: RedisOptions = { retryStrategy: reconnectDelay, connectionName: name, lazyConnect: false };
  if (role === 'engine') return { ...base, maxRetriesPerRequest: null, enableReadyCheck: true };
  if (role === 'subscriber') return { ...base, maxRetriesPerRequest: null, autoResubscribe: true };
  return { ...base, maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResendUnfulfilledCommands: false };
}

/** A connection of `role`; it reconnects forever with backoff (reconnectDelay). */
export function openRedis(url: string, role: RedisRole, name?: string): Redis {
  parseRedisUrl(url);
  const conn = new Redis(url, redisOptions(role, name));
  // Connection failures come back as rejected commands (typed by unreachable()); the event is not a crash.
  conn.on('error', () => undefined);
  return conn;
}

/** Waits until `conn` is ready, or throws FLEET_STORE_UNREACHABLE after `timeoutMs`. */
export async function whenReady(conn: Redis, url: string, timeoutMs: number): Promise<void> {
  if (conn.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      conn.off('ready', ready);
      reject(vmxError(FLEET.STORE_UNREACHABLE, `the job store at ${redactUrl(url)} did not answer within ${timeoutMs} ms`, { retryable: true }));
    }, timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    conn.once('ready', ready);
  });
}

/** Socket and connection-state failures of ioredis, as opposed to errors the server answered. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof VmxferError) return err.code === FLEET.STORE_UNREACHABLE.code;
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e?.code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|ECONNABORTED)$/.test(e.code)) return true;
  return /Connection is closed|Stream isn't writeable|enableOfflineQueue|Socket closed unexpectedly/i.test(e?.message ?? '');
}

/** The typed I/O error for a command that failed because the server is away; other errors as they are. */
export function unreachable(err: unknown, url: string, what: string): unknown {
  if (!isConnectionError(err) || err instanceof VmxferError) return err;
  return vmxError(FLEET.STORE_UNREACHABLE, `${what}: the job store at ${redactUrl(url)} is unreachable (${(err as Error).message})`, { cause: err, retryable: true });
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Runs `op`, again after each connection failure (reconnectDelay backoff) for `patienceMs`, then
 * throws FLEET_STORE_UNREACHABLE: a server restart of a few seconds costs a wait, not a failed job.
 */
export async function untilReachable<T>(url: string, what: string, patienceMs: number, op: () => Promise<T>): Promise<T> {
  const until = Date.now() + patienceMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!isConnectionError(err) || Date.now() >= until) throw unreachable(err, url, what);
      await new Promise((r) => setTimeout(r, Math.min(reconnectDelay(attempt), Math.max(until - Date.now(), 1))));
    }
  }
}
