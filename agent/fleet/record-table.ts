import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import type { JobChange } from '../jobs/job-store.js';
import type { JobRecord, JobState } from '../jobs/job-types.js';
import type { ChangeFeed } from './change-feed.js';
import type { FleetKeys } from './fleet-keys.js';
import { untilReachable } from './redis-connection.js';
import type { RedisPool } from './redis-pool.js';

/** What a transaction does with the record it read: write a new one, remove it, or leave it and answer. */
export type Decision<T> = { write: JobRecord; answer: T } | { remove: true; answer: T } | { answer: T };

const MGET_BATCH = 500;

/**
 * Job records as JSON strings in Redis, one key per job and an index of ids. Every write is a
 * WATCH of the record's key, a read, then MULTI (SET or DEL, the index, PUBLISH of the change) EXEC:
 * Redis runs the block only if nobody wrote the key since the read (redis.io "Transactions",
 * optimistic locking), so the version compare-and-set needs no script. A write whose EXEC was
 * answered by a lost connection is tried again; finding its own record stored counts as done.
 */
export class RecordTable {
  constructor(
    private readonly pool: RedisPool,
    private readonly keys: FleetKeys,
    private readonly feed: ChangeFeed,
    private readonly url: string,
    /** How long an operation keeps retrying an unreachable server before FLEET_STORE_UNREACHABLE. */
    private readonly patienceMs: number,
  ) {}

  async get(id: string): Promise<JobRecord | undefined> {
    const raw = await this.reach(`reading job ${id}`, () => this.pool.with((c) => c.get(this.keys.record(id))));
    return raw ? (JSON.parse(raw) as JobRecord) : undefined;
  }

  /** Oldest first (creation time, then id, as FileJobStore). */
  async list(states?: ReadonlySet<JobState>): Promise<JobRecord[]> {
    const all = await this.reach('listing jobs', () => this.pool.with((c) => this.readAll(c)));
    return all.filter((r) => !states || states.has(r.state)).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Reads the record under WATCH, lets `decide` judge it, and commits what it decided atomically. */
  async transact<T>(id: string, decide: (cur: JobRecord | undefined) => Decision<T>): Promise<T> {
    let unsure: Decision<T> | undefined;
    return this.reach(`writing job ${id}`, async () => {
      for (;;) {
        const out = await this.pool.with(async (c) => {
          await c.watch(this.keys.record(id));
          const raw = await c.get(this.keys.record(id));
          const cur = raw ? (JSON.parse(raw) as JobRecord) : undefined;
          if (unsure && committed(unsure, cur)) return { done: unsure.answer };
          const d = decide(cur);
          if (!('write' in d) && !('remove' in d)) return { done: d.answer };
          const echo = this.feed.expect();
          const change: JobChange = 'write' in d ? { type: 'put', record: d.write } : { type: 'removed', id };
          const m = c.multi();
          if ('write' in d) m.set(this.keys.record(id), JSON.stringify(d.write)).zadd(this.keys.index, Date.parse(d.write.createdAt) || 0, id);
          else m.del(this.keys.record(id)).zrem(this.keys.index, id);
          m.publish(this.keys.changes, this.feed.message(echo.tag, change));
          unsure = d;
          const res = await m.exec().catch((err: unknown) => {
            echo.forget();
            throw err;
          });
          unsure = undefined;
          if (res === null) {
            echo.forget();
            return undefined;
          }
          const failed = res.find(([err]) => err);
          if (failed) throw failed[0];
          await echo.echoed;
          return { done: d.answer };
        });
        if (out) return out.done;
      }
    });
  }

  private reach<T>(what: string, op: () => Promise<T>): Promise<T> {
    return untilReachable(this.url, what, this.patienceMs, op);
  }

  private async readAll(c: Redis): Promise<JobRecord[]> {
    const ids = await c.zrange(this.keys.index, 0, -1);
    const out: JobRecord[] = [];
    for (let i = 0; i < ids.length; i += MGET_BATCH) {
      const raws = await c.mget(...ids.slice(i, i + MGET_BATCH).map((id) => this.keys.record(id)));
      for (const raw of raws) if (raw) out.push(JSON.parse(raw) as JobRecord);
    }
    return out;
  }
}

/** Whether a write whose EXEC got no answer did happen: the stored record is the one it wrote (or is gone, for a removal). */
function committed(d: Decision<unknown>, cur: JobRecord | undefined): boolean {
  if ('remove' in d) return cur === undefined;
  if ('write' in d) return cur !== undefined && isDeepStrictEqual(cur, JSON.parse(JSON.stringify(d.write)));
  return false;
}
