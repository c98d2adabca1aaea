import type { Redis } from 'ioredis';
import { openRedis, whenReady } from './redis-connection.js';

/**
 * Connections for WATCH/MULTI/EXEC: a WATCH belongs to its connection, so two transactions at once
 * need two connections. At most `size` are opened; a caller beyond them waits for one to come back.
 */
export class RedisPool {
  private readonly idle: Redis[] = [];
  private readonly all: Redis[] = [];
  private readonly waiters: Array<(c: Redis) => void> = [];
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly name: string,
    /** How long a caller waits for a connection to (re)connect before FLEET_STORE_UNREACHABLE. */
    private readonly readyTimeoutMs: number,
    private readonly size = 8,
  ) {}

  /** Runs `fn` on a connection of its own; the connection is UNWATCHed and given back after. */
  async with<T>(fn: (conn: Redis) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      await whenReady(conn, this.url, this.readyTimeoutMs);
      return await fn(conn);
    } finally {
      if (conn.status === 'ready') await conn.unwatch().catch(() => undefined);
      this.release(conn);
    }
  }

  /** Every connection, idle or not (to wait for readiness or drop them). */
  connections(): readonly Redis[] {
    return this.all;
  }

  close(): void {
    this.closed = true;
    for (const c of this.all) c.disconnect();
  }

  private acquire(): Promise<Redis> {
    const conn = this.idle.pop();
    if (conn) return Promise.resolve(conn);
    if (this.all.length < this.size) {
      const fresh = openRedis(this.url, 'commands', this.name);
      this.all.push(fresh);
      return Promise.resolve(fresh);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(conn: Redis): void {
    if (this.closed) return;
    const next = this.waiters.shift();
    if (next) next(conn);
    else this.idle.push(conn);
  }
}
