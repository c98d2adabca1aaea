import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection from `job_store.url` (redis://[user:pass@]host:port[/db], rediss:// for TLS). Commands
 * wait while ioredis reconnects, so a restarted server costs a delay, not an error.
 */
export function redisConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}
