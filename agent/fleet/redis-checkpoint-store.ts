import { vmxError } from '../core/errors.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { TRANSFER } from '../transfer/error-codes.js';
import type { FleetKeys } from './fleet-keys.js';
import { untilReachable } from './redis-connection.js';
import { RedisPool } from './redis-pool.js';

/**
 * Transfer checkpoints in the shared store (job_store.url), so that the agent that takes a job over
 * resumes its multipart upload from the upload id and confirmed parts the last owner saved (and
 * reconciles them with ListParts, as after a local restart). One key per checkpoint under
 * `<prefix>:checkpoint:`; a save is one MULTI (the value and the index), saves of one id in order.
 * Durable as the server is configured (scripts/redis: append-only file, fsync every second).
 */
export class RedisCheckpointStore<T extends { id: string }> implements CheckpointStore<T> {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly pool: RedisPool;

  constructor(
    private readonly url: string,
    private readonly keys: FleetKeys,
    private readonly validate: (x: unknown) => x is T,
    private readonly patienceMs = 10_000,
    private readonly onSave?: (seconds: number) => void,
  ) {
    this.pool = new RedisPool(url, 'vmxfer-checkpoints', patienceMs, 2);
  }

  async load(id: string): Promise<T | undefined> {
    const raw = await this.reach(`reading checkpoint ${id}`, () => this.pool.with((c) => c.get(this.keys.checkpoint(id))));
    return raw === null ? undefined : this.parse(raw, id);
  }

  save(cp: T): Promise<void> {
    const body = JSON.stringify(cp);
    const next = (this.chains.get(cp.id) ?? Promise.resolve()).catch(() => undefined).then(() => this.write(cp.id, body));
    this.chains.set(cp.id, next);
    return next;
  }

  async delete(id: string): Promise<void> {
    await this.chains.get(id)?.catch(() => undefined);
    this.chains.delete(id);
    await this.reach(`deleting checkpoint ${id}`, () => this.pool.with((c) => c.multi().del(this.keys.checkpoint(id)).srem(this.keys.checkpoints, id).exec()));
  }

  async list(): Promise<T[]> {
    const raws = await this.reach('listing checkpoints', () => this.pool.with(async (c) => {
      const ids = await c.smembers(this.keys.checkpoints);
      return ids.length ? (await c.mget(...ids.map((id) => this.keys.checkpoint(id)))).map((raw, i) => [ids[i]!, raw] as const) : [];
    }));
    const out: T[] = [];
    for (const [id, raw] of raws) {
      if (raw === null) continue;
      try {
        out.push(this.parse(raw, id));
      } catch {
        // A damaged checkpoint is left out of the list, as FileCheckpointStore does; load() names it.
      }
    }
    return out;
  }

  close(): void {
    this.pool.close();
  }

  private async write(id: string, body: string): Promise<void> {
    const t0 = performance.now();
    await this.reach(`saving checkpoint ${id}`, () => this.pool.with((c) => c.multi().set(this.keys.checkpoint(id), body).sadd(this.keys.checkpoints, id).exec()));
    this.onSave?.((performance.now() - t0) / 1000);
  }

  private parse(raw: string, id: string): T {
    const file = `${this.keys.checkpoint(id)} (job store)`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw vmxError(TRANSFER.CHECKPOINT_CORRUPT, 'checkpoint is not valid JSON', { file, cause: err });
    }
    if (!this.validate(value)) throw vmxError(TRANSFER.CHECKPOINT_CORRUPT, 'checkpoint does not have the expected fields', { file });
    return value;
  }

  private reach<R>(what: string, op: () => Promise<R>): Promise<R> {
    return untilReachable(this.url, what, this.patienceMs, op);
  }
}
