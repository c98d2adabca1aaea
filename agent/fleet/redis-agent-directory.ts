import type { Redis } from 'ioredis';
import { unreachable } from './redis-connection.js';
import { byName, FORGET_AFTER_MS, HEARTBEAT_TTL_MS, statusOf, type AgentBeat, type AgentDirectory, type AgentStatus, type StoredBeat } from './agent-directory.js';

/**
 * The fleet's directory in Redis, with plain commands: `<prefix>:agents` is a hash of each agent's
 * last beat, `<prefix>:agent-alive:<name>` a key that expires with the heartbeat (PX), so an agent is
 * lost by the server's clock, not by comparing another machine's.
 */
export class RedisAgentDirectory implements AgentDirectory {
  readonly fleet = true;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** The server's URL, for the FLEET_STORE_UNREACHABLE of a command that could not reach it. */
    private readonly url = '',
  ) {}

  private get hash(): string {
    return `${this.prefix}:agents`;
  }

  private alive(name: string): string {
    return `${this.prefix}:agent-alive:${name}`;
  }

  heartbeat(beat: AgentBeat, ttlMs = HEARTBEAT_TTL_MS): Promise<void> {
    const stored: StoredBeat = { ...beat, at: Date.now(), until: 0 };
    return this.typed('recording a heartbeat', () => this.redis.multi().hset(this.hash, beat.name, JSON.stringify(stored)).set(this.alive(beat.name), '1', 'PX', Math.max(1, Math.round(ttlMs))).exec().then(failedReply));
  }

  leave(name: string): Promise<void> {
    return this.typed('recording an agent leaving', async () => {
      const b = parseBeat(await this.redis.hget(this.hash, name));
      if (!b) return;
      await this.redis.multi().hset(this.hash, name, JSON.stringify({ ...b, left: true })).del(this.alive(name)).exec().then(failedReply);
    });
  }

  list(): Promise<AgentStatus[]> {
    return this.typed('listing the agents', () => this.read());
  }

  /** A command that could not reach the server fails as FLEET_STORE_UNREACHABLE (an I/O error). */
  private async typed<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unreachable(err, this.url, what);
    }
  }

  private async read(): Promise<AgentStatus[]> {
    const all = await this.redis.hgetall(this.hash);
    const beats = Object.values(all).map(parseBeat).filter((b): b is StoredBeat => b !== undefined);
    if (beats.length === 0) return [];
    const alive = await this.redis.mget(beats.map((b) => this.alive(b.name)));
    const now = Date.now();
    const out: AgentStatus[] = [];
    const forget: string[] = [];
    beats.forEach((b, i) => {
      const up = alive[i] !== null;
      if (!up && now - b.at > FORGET_AFTER_MS) forget.push(b.name);
      else out.push(statusOf({ ...b, until: up ? Infinity : 0 }, now));
    });
    if (forget.length) await this.redis.hdel(this.hash, ...forget);
    return out.sort(byName);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function parseBeat(raw: string | null | undefined): StoredBeat | undefined {
  if (!raw) return undefined;
  try {
    const b = JSON.parse(raw) as StoredBeat;
    return typeof b.name === 'string' && typeof b.at === 'number' ? b : undefined;
  } catch {
    return undefined;
  }
}

/** A MULTI whose EXEC reports a failed command rejects, like a single command would. */
function failedReply(replies: Array<[Error | null, unknown]> | null): void {
  const failed = replies?.find(([err]) => err !== null);
  if (failed) throw failed[0];
}
