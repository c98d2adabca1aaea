import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Which agent exports the fleet-wide gauges (issue #15 point 5: "exported once, not once per agent").
 * `held()` is read at every scrape; an agent alone always holds it.
 */
export interface MetricsLeader {
  held(): boolean;
  /** Gives the lease up (a clean stop), so another agent takes it at its next try. */
  stop(): Promise<void>;
}

export const ALONE: MetricsLeader = { held: () => true, stop: async () => undefined };

/** How long the lease lasts; it is taken or renewed every third of it. */
export const METRICS_LEASE_MS = 15_000;

/**
 * A short lease in Redis, `<prefix>:metrics-leader`, taken with SET NX PX and renewed by its holder
 * under WATCH/MULTI/EXEC (a plain GET then PEXPIRE could renew a lease another agent took meanwhile).
 * The holder counts itself the leader until the lease it last set would end, measured from before
 * the command was sent, so two agents never both count themselves leaders by their own clocks.
 */
export class RedisMetricsLeader implements MetricsLeader {
  private until = 0;
  private readonly key: string;
  private readonly token = randomUUID();
  private readonly timer: NodeJS.Timeout;
  private trying: Promise<void> = Promise.resolve();

  /** `redis`: a connection of its own (WATCH holds for the whole connection), ended by stop(). */
  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly leaseMs = METRICS_LEASE_MS,
  ) {
    this.key = `${prefix}:metrics-leader`;
    this.timer = setInterval(() => void this.tryNow(), Math.max(10, Math.floor(leaseMs / 3)));
    this.timer.unref();
    void this.tryNow();
  }

  held(): boolean {
    return Date.now() < this.until;
  }

  /** One attempt to take or renew the lease (also what the timer runs). */
  tryNow(): Promise<void> {
    this.trying = this.trying.then(() => this.attempt().catch(() => void (this.until = 0)));
    return this.trying;
  }

  private async attempt(): Promise<void> {
    const t0 = Date.now();
    if ((await this.redis.set(this.key, this.token, 'PX', this.leaseMs, 'NX')) === 'OK') {
      this.until = t0 + this.leaseMs;
      return;
    }
    await this.redis.watch(this.key);
    if ((await this.redis.get(this.key)) !== this.token) {
      await this.redis.unwatch();
      this.until = 0;
      return;
    }
    const renewed = await this.redis.multi().pexpire(this.key, this.leaseMs).exec();
    this.until = renewed ? t0 + this.leaseMs : 0;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.trying;
    if (this.held()) await this.release().catch(() => undefined);
    this.until = 0;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async release(): Promise<void> {
    await this.redis.watch(this.key);
    if ((await this.redis.get(this.key)) === this.token) await this.redis.multi().del(this.key).exec();
    else await this.redis.unwatch();
  }
}
