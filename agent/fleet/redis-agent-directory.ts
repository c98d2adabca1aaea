import type { Redis } from 'ioredis';
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
    /** Whether close() ends the connection (the directory's own) or leaves it to its owner. */
    private readonly ownsConnection = true,
  ) {}

  private get hash(): string {
    return `${this.prefix}:agents`;
  }

  private alive(name: string): string {
    return `${this.prefix}:agent-alive:${name}`;
  }

  async heartbeat(beat: AgentBeat, ttlMs = HEARTBEAT_TTL_MS): Promise<void> {
    const stored: StoredBeat = { ...beat, at: Date.now(), until: 0 };
    await this.redis.multi().hset(this.hash, beat.name, JSON.stringify(stored)).set(this.alive(beat.name), '1', 'PX', Math.max(1, Math.round(ttlMs))).exec().then(failedReply);
  }

  async leave(name: string): Promise<void> {
    const raw = await this.redis.hget(this.hash, name);
    const b = parseBeat(raw);
    if (!b) return;
    await this.redis.multi().hset(this.hash, name, JSON.stringify({ ...b, left: true })).del(this.alive(name)).exec().then(failedReply);
  }

  async list(): Promise<AgentStatus[]> {
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
    if (this.ownsConnection) await this.redis.quit().catch(() => this.redis.disconnect());
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
