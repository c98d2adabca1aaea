import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { abortedError, throwIfAborted } from '../core/abort.js';
import { CORE } from '../core/error-codes.js';
import { isVmxferError, vmxError } from '../core/errors.js';
import { DEFAULT_LEASE_MS, type AcquireOptions, type FleetSemaphore, type SemaphoreLease } from './fleet-semaphore.js';
import { openRedis, unreachable, untilReachable } from './redis-connection.js';

export interface RedisSemaphoreOptions {
  /** `job_store.prefix`: every key is `<prefix>:sem:<key>`. */
  prefix: string;
  leaseMs?: number | undefined;
  /** The longest a waiter sleeps between two looks when no release message comes (a lost message, a dead holder). */
  pollMs?: number | undefined;
}

/** A waiter's wake-up: set by a release message, whether or not the waiter sleeps yet. */
interface Wake {
  pending: boolean;
  wake?: (() => void) | undefined;
}

/**
 * The semaphore on Redis: each key is a sorted set of lease ids scored by their expiry (server time, TIME),
 * taken with WATCH/MULTI/EXEC (count the live ones, drop the expired, add ours) and renewed by ZADD XX.
 * A release publishes on the key's channel, which wakes the waiters of every agent at once; a dead holder's
 * slot frees when its score passes, and waiters sleep until the earliest expiry at most. Plain commands
 * only (issue #15: no Lua of our own).
 */
export class RedisFleetSemaphore implements FleetSemaphore {
  readonly shared = true;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private subscriber: Redis | undefined;
  private readonly wakes = new Map<string, Set<Wake>>();
  private readonly renewals = new Set<NodeJS.Timeout>();
  /** WATCH state is the connection's: one transaction at a time on it. */
  private tx: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly url: string,
    private readonly options: RedisSemaphoreOptions,
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.pollMs = options.pollMs ?? 1000;
  }

  /** A `commands` connection (no offline queue: a WATCH is never replayed without it after a reconnect). */
  static open(url: string, options: RedisSemaphoreOptions): RedisFleetSemaphore {
    return new RedisFleetSemaphore(openRedis(url, 'commands', 'vmxfer-semaphore'), url, options);
  }

  async acquire(key: string, limit: number, holder: string, signal?: AbortSignal, options: AcquireOptions = {}): Promise<SemaphoreLease> {
    throwIfAborted(signal);
    const id = `${holder}#${randomUUID()}`;
    const wake: Wake = { pending: false };
    await this.listen(key, wake);
    try {
      for (let told = false; ; told = true) {
        // A server restart costs a wait of up to one lease time, not a failed task.
        const waitMs = await untilReachable(this.url, 'a fleet slot', this.leaseMs, () => this.serial(() => this.tryTake(key, limit, id)));
        if (waitMs === null) return this.lease(key, holder, id);
        if (!told) options.onWaiting?.();
        await this.sleep(wake, Math.min(this.pollMs, waitMs), signal);
      }
    } finally {
      await this.unlisten(key, wake);
    }
  }

  async holders(key: string): Promise<string[]> {
    const now = await this.now();
    const ids = await this.call(() => this.redis.zrangebyscore(this.setKey(key), `(${now}`, '+inf'));
    return ids.map((id) => id.slice(0, id.lastIndexOf('#')));
  }

  async close(): Promise<void> {
    for (const t of this.renewals) clearInterval(t);
    this.renewals.clear();
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }

  private setKey(key: string): string {
    return `${this.options.prefix}:sem:${key}`;
  }

  private channel(key: string): string {
    return `${this.options.prefix}:sem-free:${key}`;
  }

  /** Server time in ms: every agent scores leases on the one clock. */
  private async now(): Promise<number> {
    const [s, us] = await this.call(() => this.redis.time());
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  /**
   * One try: null when the lease was added, else how long until the earliest live lease expires. EXEC
   * answers null when another client changed the set after WATCH: then we look again.
   */
  private async tryTake(key: string, limit: number, id: string): Promise<number | null> {
    const k = this.setKey(key);
    for (;;) {
      await this.call(() => this.redis.watch(k));
      const now = await this.now();
      const live = await this.call(() => this.redis.zrangebyscore(k, `(${now}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit));
      if (live.length / 2 >= limit) {
        await this.call(() => this.redis.unwatch());
        return Math.max(1, Number(live[1]) - now);
      }
      const done = await this.call(() => this.redis.multi().zremrangebyscore(k, '-inf', now).zadd(k, now + this.leaseMs, id).pexpire(k, this.leaseMs * 2).exec());
      if (done) return null;
    }
  }

  private lease(key: string, holder: string, id: string): SemaphoreLease {
    const k = this.setKey(key);
    const lost = new AbortController();
    const renew = async () => {
      const now = await this.now();
      const changed = await this.call(() => this.redis.zadd(k, 'XX', 'CH', now + this.leaseMs, id));
      // The set outlives its last live lease by one lease time, then goes (every holder dead).
      await this.call(() => this.redis.pexpire(k, this.leaseMs * 2));
      if (changed === 0 && (await this.call(() => this.redis.zscore(k, id))) === null) {
        stop();
        lost.abort(vmxError(CORE.IO, `the fleet slot ${key} of ${holder} expired before it was renewed; another holder may have it`));
      }
    };
    const timer = setInterval(() => void renew().catch(() => undefined), Math.max(10, Math.floor(this.leaseMs / 3)));
    timer.unref();
    this.renewals.add(timer);
    const stop = () => {
      clearInterval(timer);
      this.renewals.delete(timer);
    };
    let released = false;
    return {
      key,
      holder,
      lost: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        stop();
        // Through the queue of transactions: an EXEC between another acquirer's WATCH and its EXEC would unwatch it.
        await this.serial(() => this.call(() => this.redis.multi().zrem(k, id).publish(this.channel(key), id).exec()));
      },
    };
  }

  private async listen(key: string, wake: Wake): Promise<void> {
    const channel = this.channel(key);
    let set = this.wakes.get(channel);
    if (!set) {
      this.wakes.set(channel, (set = new Set()));
      const sub = this.sub();
      set.add(wake);
      await this.call(() => sub.subscribe(channel));
      return;
    }
    set.add(wake);
  }

  private async unlisten(key: string, wake: Wake): Promise<void> {
    const channel = this.channel(key);
    const set = this.wakes.get(channel);
    set?.delete(wake);
    if (set?.size === 0) {
      this.wakes.delete(channel);
      await this.subscriber?.unsubscribe(channel).catch(() => undefined);
    }
  }

  private sub(): Redis {
    if (!this.subscriber) {
      this.subscriber = openRedis(this.url, 'subscriber', 'vmxfer-semaphore-wake');
      this.subscriber.on('message', (channel: string) => {
        for (const w of this.wakes.get(channel) ?? []) {
          w.pending = true;
          w.wake?.();
        }
      });
    }
    return this.subscriber;
  }

  /** Until a release message, `ms`, or the abort. */
  private sleep(wake: Wake, ms: number, signal?: AbortSignal): Promise<void> {
    if (wake.pending) {
      wake.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        wake.wake = undefined;
        wake.pending = false;
      };
      const onAbort = () => {
        done();
        reject(abortedError(signal));
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, ms);
      wake.wake = () => {
        done();
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tx.then(fn, fn);
    this.tx = run.catch(() => undefined);
    return run;
  }

  /** A failed Redis command is an environment failure: FLEET_STORE_UNREACHABLE while the server is away, else I/O. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const typed = unreachable(err, this.url, 'the fleet semaphore');
      if (isVmxferError(typed)) throw typed;
      throw vmxError(CORE.IO, `the fleet semaphore's Redis failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
