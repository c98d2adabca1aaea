import type { Redis } from 'ioredis';
import { vmxError } from '../core/errors.js';
import { mayRun } from '../jobs/admission.js';
import { JOB } from '../jobs/error-codes.js';
import type { AdmissionLimits, JobChange, JobRecordPatch, JobStore, RecoveredJob } from '../jobs/job-store.js';
import { JOB_SCHEMA, TERMINAL_STATES, type JobRecord, type JobState } from '../jobs/job-types.js';
import { ChangeFeed } from './change-feed.js';
import { ClaimLanes, laneOf } from './claim-lanes.js';
import { fleetKeys } from './fleet-keys.js';
import { admit, RunningCounts } from '../jobs/admission.js';
import { RecordTable } from './record-table.js';
import { openRedis, whenReady } from './redis-connection.js';
import { RedisPool } from './redis-pool.js';

export interface RedisJobStoreOptions {
  url: string;
  /** job_store.prefix: every key under `<prefix>:`. */
  prefix: string;
  /** job_store.lease_seconds in ms: how long a dead agent's jobs stay its own. */
  leaseMs: number;
  /** How long opening waits for the server, and an operation retries an unreachable one (default 10 s). */
  patienceMs?: number | undefined;
}

const RUNNING: ReadonlySet<JobState> = new Set(['validating', 'active', 'waiting']);

/**
 * The JobStore of a fleet: records in Redis (record-table.ts), the change stream on pub/sub
 * (change-feed.ts), claims, leases and lapsed-lease detection by BullMQ (claim-lanes.ts). Several
 * agents open it on one server; each claims under its `agent.name`. Admission is read per agent
 * (agent/jobs/admission.ts): `global` limits the jobs running under the claimer's name.
 */
export class RedisJobStore implements JobStore {
  private claims: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly table: RecordTable,
    private readonly feed: ChangeFeed,
    private readonly lanes: ClaimLanes,
    private readonly pool: RedisPool,
    private readonly engine: Redis,
  ) {}

  static async open(opts: RedisJobStoreOptions): Promise<RedisJobStore> {
    const patience = opts.patienceMs ?? 10_000;
    const keys = fleetKeys(opts.prefix);
    const feed = await ChangeFeed.open(opts.url, keys.changes, patience);
    const pool = new RedisPool(opts.url, 'vmxfer-records', patience);
    const engine = openRedis(opts.url, 'engine', 'vmxfer-engine');
    await whenReady(engine, opts.url, patience).catch((err: unknown) => {
      feed.close();
      engine.disconnect();
      throw err;
    });
    const orphaned = (id: string) => feed.announce({ type: 'orphaned', id });
    const lanes = new ClaimLanes(engine, opts.prefix, opts.leaseMs, orphaned, orphaned);
    const table = new RecordTable(pool, keys, feed, opts.url, patience);
    const store = new RedisJobStore(table, feed, lanes, pool, engine);
    // Every lane that holds jobs gets this agent's stalled checker, so any live agent sees a lease lapse.
    for (const r of await table.list()) if (!TERMINAL_STATES.has(r.state)) lanes.lane(laneOf(r));
    feed.subscribe((c) => c.type === 'put' && !TERMINAL_STATES.has(c.record.state) && lanes.lane(laneOf(c.record)));
    return store;
  }

  /** Whether every connection to the server is up now (the daemon's /readyz). */
  get reachable(): boolean {
    return this.engine.status === 'ready' && this.feed.connected;
  }

  /** BullMQ's state of a job's engine job ('active' while an agent's lock holds it; 'unknown' when there is none). */
  engineState(rec: JobRecord): Promise<string> {
    return this.lanes.state(rec);
  }

  async create(record: JobRecordPatch & { id: string }): Promise<JobRecord> {
    const rec: JobRecord = { ...record, schema: JOB_SCHEMA, version: 1 };
    const written = await this.table.transact(record.id, (cur) => {
      if (cur) throw vmxError(JOB.DUPLICATE_ID, `a job ${record.id} already exists`);
      return { write: rec, answer: rec };
    });
    await this.engineFollows(written);
    return clone(written);
  }

  get(id: string): Promise<JobRecord | undefined> {
    return this.table.get(id);
  }

  list(states?: ReadonlySet<JobState>): Promise<JobRecord[]> {
    return this.table.list(states);
  }

  /** One claim at a time per agent; claims of several agents meet in the engine and the records' compare-and-set. */
  claim(owner: string, limits: AdmissionLimits): Promise<JobRecord[]> {
    const run = this.claims.then(() => this.claimNow(owner, limits));
    this.claims = run.catch(() => undefined);
    return run;
  }

  async update(id: string, expectedVersion: number, next: JobRecordPatch): Promise<JobRecord> {
    const written = await this.table.transact(id, (cur) => {
      if (!cur) throw vmxError(JOB.NOT_FOUND, `no job ${id}`);
      if (cur.version !== expectedVersion) throw vmxError(JOB.CONFLICT, `job ${id} is at version ${cur.version}, the writer read version ${expectedVersion}`);
      const rec: JobRecord = { ...next, id, schema: JOB_SCHEMA, version: cur.version + 1 };
      return { write: rec, answer: rec };
    });
    await this.engineFollows(written);
    return clone(written);
  }

  async requestCancel(id: string): Promise<JobRecord> {
    return clone(await this.table.transact(id, (cur) => {
      if (!cur) throw vmxError(JOB.NOT_FOUND, `no job ${id}`);
      if (TERMINAL_STATES.has(cur.state)) throw vmxError(JOB.NOT_CANCELLABLE, `job ${id} is already ${cur.state}`);
      if (cur.state === 'cancelling') return { answer: cur };
      const rec = { ...cur, state: 'cancelling' as const, version: cur.version + 1 };
      return { write: rec, answer: rec };
    }));
  }

  /**
   * Running jobs whose engine job is no longer locked by a live agent (the engine put it back after
   * the lease ran out): queued again; cancelling ones lose their owner. Queued jobs missing from their
   * lane (a writer died between the record and the engine job) are put in it.
   */
  async recover(): Promise<RecoveredJob[]> {
    const out: RecoveredJob[] = [];
    for (const r of await this.table.list()) {
      if (r.state === 'queued' && r.owner === null && (await this.lanes.state(r)) === 'unknown') await this.lanes.offer(r);
      const orphanable = RUNNING.has(r.state) || (r.state === 'cancelling' && r.owner !== null);
      if (!orphanable || (await this.lanes.state(r)) === 'active') continue;
      if (await this.handBack(r.id, r)) out.push({ id: r.id, was: r.state });
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    const gone = await this.table.transact(id, (cur) => (cur ? { remove: true, answer: cur } : { answer: undefined }));
    if (gone) await this.lanes.finish(gone);
  }

  subscribe(listener: (change: JobChange) => void): () => void {
    return this.feed.subscribe(listener);
  }

  /**
   * Hands the jobs this agent still holds to the fleet now (queued again, for any agent to claim and
   * resume from the shared checkpoint) rather than after their lease, then closes every connection.
   */
  async close(): Promise<void> {
    await this.claims;
    for (const id of this.lanes.heldIds()) {
      const r = await this.table.get(id).catch(() => undefined);
      if (r) await this.handBack(id, r).catch(() => undefined);
    }
    await this.lanes.close(true);
    this.shut();
  }

  /**
   * Drops every connection at once without a word to the server, as a kill -9 or a lost network
   * would: the jobs this agent held stay locked until their lease runs out.
   */
  async abandon(): Promise<void> {
    this.engine.disconnect();
    await this.lanes.close(false);
    this.shut();
  }

  private shut(): void {
    this.feed.close();
    this.pool.close();
    this.engine.disconnect();
  }

  private async claimNow(owner: string, limits: AdmissionLimits): Promise<JobRecord[]> {
    const records = await this.table.list();
    const counts = new RunningCounts(records);
    const out: JobRecord[] = [];
    const handBack: string[] = [];
    for (const c of admit(records, limits)) {
      if (!counts.allows(c.destinationKey, limits)) continue;
      const lane = laneOf(c);
      if (!c.affinity) await this.lanes.limit(lane, limits.perDestination);
      const job = await this.lanes.take(lane);
      if (!job?.id) continue;
      const claimed = await this.table.transact<{ rec: JobRecord } | { skipped: JobRecord } | undefined>(job.id, (cur) => {
        if (!cur || cur.state !== 'queued' || cur.owner !== null || !mayRun(cur, limits.agent) || !counts.allows(cur.destinationKey, limits)) return { answer: cur ? { skipped: cur } : undefined };
        const rec: JobRecord = { ...cur, state: 'validating', owner, agent: limits.agent ?? null, version: cur.version + 1 };
        return { write: rec, answer: { rec } };
      });
      if (claimed && 'rec' in claimed) {
        counts.add(claimed.rec.destinationKey, limits.agent ?? null);
        out.push(clone(claimed.rec));
      } else if (!claimed || TERMINAL_STATES.has(claimed.skipped.state)) await this.lanes.finish(claimed?.skipped ?? { id: job.id, destinationKey: c.destinationKey, affinity: c.affinity ?? null });
      else handBack.push(job.id);
    }
    await Promise.all(handBack.map((id) => this.lanes.putBack(id)));
    return out;
  }

  /** A running job of a runner that is gone back to the queue (cancelling: without owner), if the record is still as read. */
  private async handBack(id: string, seen: JobRecord): Promise<boolean> {
    const back = await this.table.transact(id, (cur) => {
      if (!cur || cur.owner !== seen.owner || cur.state !== seen.state || TERMINAL_STATES.has(cur.state) || cur.owner === null) return { answer: undefined };
      const rec: JobRecord = { ...cur, ...(cur.state === 'cancelling' ? { owner: null } : { state: 'queued', owner: null, phase: null }), version: cur.version + 1 };
      return { write: rec, answer: rec };
    });
    if (!back) return false;
    if (back.state === 'cancelling') await this.lanes.finish(back);
    else if (this.lanes.holds(id)) await this.lanes.putBack(id);
    else await this.lanes.offer(back);
    return true;
  }

  /** The engine job follows the record: a finished job leaves its lane, a job queued without owner waits in it. */
  private async engineFollows(rec: JobRecord): Promise<void> {
    if (TERMINAL_STATES.has(rec.state)) await this.lanes.finish(rec);
    else if (rec.state === 'queued' && rec.owner === null) {
      if (this.lanes.holds(rec.id)) await this.lanes.putBack(rec.id);
      else await this.lanes.offer(rec);
    }
  }
}

function clone(rec: JobRecord): JobRecord {
  return JSON.parse(JSON.stringify(rec)) as JobRecord;
}
