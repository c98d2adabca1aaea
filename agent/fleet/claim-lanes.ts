import { createHash, randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobRecord } from '../jobs/job-types.js';

/** BullMQ's priorities run from 1 (first) to 2^21; 0 would put a job ahead of every prioritized one. */
const BULL_PRIORITY_MAX = 2 ** 21;
const PRIORITY_ZERO = 2 ** 20;

/** A job's place in the engine: lower first, so a higher record priority maps lower. */
export function enginePriority(priority: number | undefined): number {
  return Math.min(Math.max(PRIORITY_ZERO - Math.trunc(priority ?? 0), 1), BULL_PRIORITY_MAX);
}

/**
 * The engine's queue ("lane") a job waits in: one per destination key, whose global concurrency is
 * `per_destination`, and one per agent for the jobs only that agent may run (affinity).
 */
export function laneOf(rec: Pick<JobRecord, 'destinationKey' | 'affinity'>): string {
  if (rec.affinity) return `lane-agent-${createHash('sha256').update(rec.affinity).digest('hex').slice(0, 20)}`;
  return `lane-dest-${createHash('sha256').update(rec.destinationKey).digest('hex').slice(0, 20)}`;
}

interface Held {
  job: Job;
  token: string;
}

/**
 * The claim side of the shared store on BullMQ. A queued job is a BullMQ job (id = the job's id) in its
 * lane; claiming takes it with `Worker.getNextJob`, which moves it to active under a lock of
 * `lockMs` (BullMQ "Manually processing jobs"); the lock is extended every lockMs / 2 while the job
 * is ours; every agent runs BullMQ's stalled checker on every lane, which puts a job whose lock ran
 * out (its agent died or lost the network) back to waiting and emits `stalled` — the lease.
 * Priority within a lane and the per-destination limit across agents are BullMQ's too.
 */
export class ClaimLanes {
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Map<string, Worker>();
  private readonly concurrency = new Map<string, number>();
  private readonly held = new Map<string, Held>();
  private readonly renewal: NodeJS.Timeout;
  private closed = false;

  /**
   * `leaseMs`: the longest a dead agent keeps its jobs. The lock lasts half of it and the stalled
   * checker runs every quarter, so a job is back in its lane at most lock + 2 checks = leaseMs after its
   * agent's last renewal.
   */
  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
    private readonly leaseMs: number,
    private readonly onStalled: (jobId: string) => void,
    private readonly onLost: (jobId: string) => void,
  ) {
    this.renewal = setInterval(() => void this.renew(), this.lockMs / 2);
    this.renewal.unref();
  }

  get lockMs(): number {
    return Math.max(Math.floor(this.leaseMs / 2), 500);
  }

  /** Starts the lane's queue and stalled checker (once per lane per agent). */
  lane(name: string): Queue {
    let q = this.queues.get(name);
    if (q) return q;
    q = new Queue(name, { connection: this.conn, prefix: this.prefix });
    const w = new Worker(name, null, {
      connection: this.conn, prefix: this.prefix, autorun: false,
      lockDuration: this.lockMs, stalledInterval: Math.max(Math.floor(this.leaseMs / 4), 250), maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    w.on('stalled', (jobId: string) => this.onStalled(jobId));
    w.on('error', () => undefined);
    q.on('error', () => undefined);
    void w.startStalledCheckTimer();
    this.queues.set(name, q);
    this.workers.set(name, w);
    return q;
  }

  /** Puts a queued job in its lane; nothing when the lane already has it. */
  async offer(rec: JobRecord): Promise<void> {
    await this.lane(laneOf(rec)).add('job', { id: rec.id }, { jobId: rec.id, priority: enginePriority(rec.priority), removeOnComplete: true, removeOnFail: true });
  }

  /** Sets a destination lane's concurrency across all agents (BullMQ global concurrency). */
  async limit(name: string, perDestination: number): Promise<void> {
    if (this.concurrency.get(name) === perDestination) return;
    await this.lane(name).setGlobalConcurrency(perDestination);
    this.concurrency.set(name, perDestination);
  }

  /** The next job of the lane (priority, then FIFO), locked for this agent; none when empty or at its limit. */
  async take(name: string): Promise<Job | undefined> {
    this.lane(name);
    const token = randomUUID();
    const job = (await this.workers.get(name)!.getNextJob(token, { block: false })) as Job | undefined;
    if (job?.id) this.held.set(job.id, { job, token });
    return job ?? undefined;
  }

  holds(id: string): boolean {
    return this.held.has(id);
  }

  heldIds(): string[] {
    return [...this.held.keys()];
  }

  /** Hands a taken job back to its lane (its record was not ours to claim). */
  async putBack(id: string): Promise<void> {
    const h = this.held.get(id);
    if (!h) return;
    this.held.delete(id);
    await h.job.moveToWait(h.token);
  }

  /** The job ended (or left the queue): its engine job goes, whoever holds its lock. */
  async finish(rec: Pick<JobRecord, 'id' | 'destinationKey' | 'affinity'>): Promise<void> {
    const h = this.held.get(rec.id);
    this.held.delete(rec.id);
    if (h) {
      await h.job.moveToCompleted('done', h.token, false);
      return;
    }
    const job = await this.lane(laneOf(rec)).getJob(rec.id);
    // A job another agent still holds stays: its owner's next write is refused (fencing) and it finishes it.
    await job?.remove().catch(() => undefined);
  }

  /** BullMQ's state of the job: 'active' while an agent's lock holds it (or the checker has not yet seen it lapse). */
  async state(rec: Pick<JobRecord, 'id' | 'destinationKey' | 'affinity'>): Promise<string> {
    if (this.held.has(rec.id)) return 'active';
    const job = await this.lane(laneOf(rec)).getJob(rec.id);
    return job ? await job.getState() : 'unknown';
  }

  /** Stops renewing and the checkers; `release`: the jobs still held go back to their lanes now. */
  async close(release: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewal);
    if (release) await Promise.allSettled([...this.held.keys()].map((id) => this.putBack(id)));
    this.held.clear();
    await Promise.allSettled([...this.workers.values()].map((w) => w.close(true)));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }

  /** Extends every held lock; a lock another agent took (or that lapsed) is no longer ours. */
  private async renew(): Promise<void> {
    await Promise.all([...this.held].map(async ([id, h]) => {
      const ok = await h.job.extendLock(h.token, this.lockMs).catch(() => -1);
      if (ok === 0 && this.held.get(id) === h) {
        this.held.delete(id);
        this.onLost(id);
      }
    }));
  }
}
