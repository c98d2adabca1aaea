import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { isVmxferError, vmxError } from '../core/errors.js';
import { ProgressTracker } from '../core/progress.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { API } from '../api/error-codes.js';
import { CORE } from '../core/error-codes.js';
import type { JobSpec } from '../api/submit-body.js';
import { JOB } from './error-codes.js';
import { newJobId } from './job-id.js';
import { assertMove } from './job-state-machine.js';
import { cleanupCancelled, importedResult, runJob, type OutcomeChange } from './job-runner.js';
import { recordStepJournal } from './record-step-journal.js';
import { cancelStartedCloudTask } from './cancel-cloud-task.js';
import { withCopyTokens } from './copy-tokens.js';
import type { Finding } from '../cloud/preflight/finding.js';
import type { GuestReport } from '../guest/inspector.js';
import { withExportToken } from '../cloud/export-options.js';
import { jobView, progressOf } from './job-view.js';
import { outcomeOfImport, withCopiesCancelled, withCopy, withShares } from './job-outcome.js';
import { PartBoard } from './part-board.js';
import { Cutover, type SyncPass } from '../workflows/sync.js';
import { destinationKey, type RunContext } from './run-context.js';
import { Scheduler } from './scheduler.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import { SAMPLE_SECONDS, ThroughputHistory } from './throughput-history.js';
import {
  TERMINAL_STATES, emptyProgress,
  type JobCloudOutcome, type JobError, type JobKind, type JobPhase, type JobProgress, type JobRecord, type JobState, type JobView, type PartView,
} from './job-types.js';

/** The phase a job enters when it becomes active. */
const FIRST_PHASE: Record<JobKind, JobPhase> = { download: 'downloading', convert: 'converting', upload: 'uploading', export: 'exporting', sync: 'uploading' };

/** docs/api.md: progress and parts at most 4 times per second per job. */
const TICK_MS = 250;

interface Live {
  controller: AbortController;
  tracker: ProgressTracker;
  done: Promise<void>;
  /** Ends the run at once without waiting for it (a cancel while it validates). */
  abandon(reason: unknown): void;
  /** A sync job's cutover request, which ends its wait between passes. */
  cutover: Cutover;
}

export interface JobServiceEvents {
  job: [JobView];
  progress: [string, JobProgress];
  parts: [string, PartView[]];
}

/**
 * The job queue: persists every job as an atomic JSON record, runs queued jobs within the global
 * and per-destination limits, resumes interrupted ones at start, and publishes state changes and
 * throttled progress for the API and the feed.
 */
export class JobService extends EventEmitter<JobServiceEvents> {
  private readonly records = new Map<string, JobRecord>();
  private readonly live = new Map<string, Live>();
  private readonly boards = new Map<string, PartBoard>();
  private readonly histories = new Map<string, ThroughputHistory>();
  private readonly scheduler: Scheduler<{ id: string; destinationKey: string }>;
  private readonly saves = new Set<Promise<void>>();
  private accepting = false;
  private ticker: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(
    private readonly store: CheckpointStore<JobRecord>,
    private ctx: RunContext,
    private readonly log: Logger,
  ) {
    super();
    this.scheduler = new Scheduler(this.limits());
  }

  private limits() {
    return { global: this.ctx.config.jobs.max_concurrent, perDestination: this.ctx.config.jobs.per_destination };
  }

  /** Reads the store; jobs a stop or crash interrupted go back to the queue, cancels are finished. */
  async load(): Promise<void> {
    const all = (await this.store.list()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const rec of all) {
      this.records.set(rec.id, rec);
      if (rec.state === 'validating' || rec.state === 'active' || rec.state === 'waiting') {
        this.log.info({ job: rec.id, was: rec.state }, 'resuming interrupted job');
        this.move(rec, 'queued', { phase: null });
      }
      if (rec.state === 'queued') this.enqueue(rec);
      if (rec.state === 'cancelling') void this.finishCancel(rec);
    }
  }

  start(): void {
    this.accepting = true;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
    this.pump();
  }

  reconfigure(ctx: RunContext): void {
    this.ctx = ctx;
    this.scheduler.setLimits(this.limits());
    this.pump();
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  async submit(spec: JobSpec): Promise<JobView> {
    if (!this.accepting) throw vmxError(API.UNAVAILABLE, 'the daemon is stopping and takes no new jobs');
    const rec: JobRecord = {
      id: newJobId(), version: 1, kind: spec.kind, state: 'queued', phase: null,
      source: spec.source, destination: spec.destination, format: spec.format, options: spec.options,
      createdAt: new Date().toISOString(), startedAt: null, finishedAt: null,
      progress: emptyProgress(), result: null, error: null, attempts: 0,
      // One ClientToken for the job's whole life: a retried or restarted ImportImage returns the same task.
      import: spec.import ? withCopyTokens({ ...spec.import, clientToken: randomUUID() }) : null, cloudTask: null,
      ...(spec.export ? { export: withExportToken(spec.export) } : {}),
      ...(spec.sync ? { sync: spec.sync, passes: [] } : {}),
    };
    this.records.set(rec.id, rec);
    await this.persist(rec);
    this.log.info({ job: rec.id, kind: rec.kind, format: rec.format }, 'job submitted');
    this.emit('job', jobView(rec));
    this.enqueue(rec);
    this.pump();
    return jobView(rec);
  }

  list(states?: ReadonlySet<string>): JobView[] {
    return [...this.records.values()].filter((r) => !states || states.has(r.state)).map((r) => jobView(this.fresh(r)));
  }

  get(id: string): JobView | undefined {
    const rec = this.records.get(id);
    return rec && jobView(this.fresh(rec), { parts: this.boards.get(id), history: this.histories.get(id) });
  }

  async cancel(id: string): Promise<JobView> {
    const rec = this.records.get(id);
    if (!rec) throw vmxError(API.NOT_FOUND, `no job ${id}`);
    if (TERMINAL_STATES.has(rec.state) || rec.state === 'cancelling') {
      if (rec.state === 'cancelling') return jobView(rec);
      throw vmxError(API.NOT_CANCELLABLE, `job ${id} is already ${rec.state}`);
    }
    const validating = rec.state === 'validating';
    this.move(rec, 'cancelling');
    const live = this.live.get(id);
    if (live) {
      const reason = vmxError(CORE.ABORTED, `job ${id} cancelled through the API`);
      live.controller.abort(reason);
      // Validation may wait on what no signal interrupts (an open(2) of a FIFO blocks until a writer
      // comes); nothing is written before it ends, so the job ends now and the run is left to unwind.
      if (validating) live.abandon(reason);
    } else {
      this.scheduler.remove(id);
      void this.finishCancel(rec);
    }
    return jobView(rec);
  }

  /** docs/api.md "Sync jobs": the next pass is the final one (at once when the job waits), then the import. */
  async cutover(id: string): Promise<JobView> {
    const rec = this.records.get(id);
    if (!rec) throw vmxError(API.NOT_FOUND, `no job ${id}`);
    if (rec.kind !== 'sync' || !rec.sync) throw vmxError(API.NOT_SYNC, `job ${id} is a ${rec.kind} job; only a sync job has a cutover`);
    if (TERMINAL_STATES.has(rec.state) || rec.state === 'cancelling') throw vmxError(API.NOT_SYNC, `job ${id} is already ${rec.state}`);
    rec.sync = { ...rec.sync, cutover: true };
    await this.persist(rec);
    this.live.get(id)?.cutover.request();
    this.log.info({ job: id }, 'sync cutover requested');
    this.emit('job', jobView(this.fresh(rec)));
    return jobView(rec);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.records.values()) out[r.state] = (out[r.state] ?? 0) + 1;
    return out;
  }

  cloudTasks(): Array<{ kind: string; state: string; count: number }> {
    const counts = new Map<string, { kind: string; state: string; count: number }>();
    for (const r of this.records.values()) {
      if (!r.cloudTask || TERMINAL_STATES.has(r.state)) continue;
      const k = `${r.cloudTask.kind}\u0000${r.cloudTask.state}`;
      const c = counts.get(k) ?? { kind: r.cloudTask.kind, state: r.cloudTask.state, count: 0 };
      c.count++;
      counts.set(k, c);
    }
    return [...counts.values()];
  }

  remainingBytes(): number {
    let n = 0;
    for (const [id, l] of this.live) {
      const s = l.tracker.snapshot();
      if (this.records.get(id)?.state === 'active') n += Math.max(0, s.totalBytes - s.bytesRead);
    }
    return n;
  }

  /** Stops taking jobs and stops the running ones; their checkpoints and uploads stay for the next start. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.accepting = false;
    clearInterval(this.ticker);
    for (const [id, l] of this.live) l.controller.abort(vmxError(JOB.SHUTDOWN, `the daemon is stopping; job ${id} resumes at the next start`));
    const all = Promise.allSettled([...this.live.values()].map((l) => l.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    await Promise.allSettled([...this.saves]);
  }

  private enqueue(rec: JobRecord): void {
    this.scheduler.enqueue({ id: rec.id, destinationKey: destinationKey(rec.kind, rec.source, rec.destination, this.ctx.config) });
  }

  private pump(): void {
    if (!this.accepting) return;
    for (const item of this.scheduler.takeRunnable()) {
      const rec = this.records.get(item.id);
      if (rec?.state === 'queued') this.begin(rec);
      else this.scheduler.release(item.id);
    }
  }

  private begin(rec: JobRecord): void {
    const controller = new AbortController();
    const tracker = new ProgressTracker();
    const parts = new PartBoard();
    this.boards.set(rec.id, parts);
    this.histories.set(rec.id, new ThroughputHistory());
    rec.attempts++;
    rec.startedAt ??= new Date().toISOString();
    rec.error = null;
    this.move(rec, 'validating');
    const cutover = new Cutover(rec.sync?.cutover ?? false);
    const run = {
      cutover,
      onWaiting: () => this.move(rec, 'waiting', { phase: null }),
      onPass: (passes: SyncPass[]) => {
        rec.passes = passes;
        this.emit('job', jobView(this.fresh(rec)));
      },
      progress: tracker,
      parts,
      signal: controller.signal,
      journal: recordStepJournal(rec, () => this.persist(rec)),
      onValidated: (findings?: Finding[]) => {
        // A restarted job that skips its checks keeps the findings of the run that made them.
        if (findings?.length) {
          rec.preflight = findings;
          for (const f of findings) this.log.warn({ job: rec.id, rule: f.rule, cloudCode: f.cloudCode }, `preflight ${f.severity}: ${f.message}`);
        }
        if (rec.state === 'validating') this.move(rec, 'active', { phase: FIRST_PHASE[rec.kind] });
      },
      onGuest: (report: GuestReport) => {
        rec.guest = report;
      },
      onPhase: (phase: JobPhase) => {
        if ((rec.state === 'active' && rec.phase !== phase) || rec.state === 'waiting') this.move(rec, 'active', { phase });
      },
      onCloudTask: (status: CloudTaskStatus) => this.cloudTaskChanged(rec, status),
      onOutcome: (change: OutcomeChange) => {
        if ('imported' in change) {
          rec.cloudOutcome = outcomeOfImport(importedResult(change.imported));
          this.emit('job', jobView(this.fresh(rec)));
          void this.persist(rec);
        } else if ('copy' in change) this.outcomeChanged(rec, (o) => withCopy(o, change.copy, (rec.import?.copy ?? []).map((c) => c.region)));
        else this.outcomeChanged(rec, (o) => withShares(o, change.shares));
      },
    };
    let abandon!: (reason: unknown) => void;
    const abandoned = new Promise<never>((_, reject) => (abandon = reject));
    const ran = runJob(rec, this.ctx, run);
    ran.catch(() => undefined);
    const done = Promise.race([ran, abandoned]).then(
      (result) => {
        rec.progress = { ...progressOf(tracker.snapshot(), parts), partsTotal: parts.size || null, rate: 0, etaSeconds: 0 };
        // docs/api.md Job.cloudOutcome: at completion it is result.import's.
        const outcome = result.import ? { cloudOutcome: outcomeOfImport(result.import) } : {};
        this.move(rec, 'completed', { result, ...outcome, phase: null, finishedAt: new Date().toISOString() });
        // The audit line of a finished transfer: what went where, how much, how long, and its digests.
        this.log.info(
          { job: rec.id, kind: rec.kind, source: rec.source, destination: rec.destination, bytes: result.objectSize, seconds: Number(result.seconds.toFixed(3)), digest: result.outputDigest, sourceDigest: result.sourceDigest, etag: result.etag },
          'job completed',
        );
      },
      (err) => this.failed(rec, controller.signal, err),
    ).finally(() => {
      const last = parts.takeChanges();
      if (last.length) this.emit('parts', rec.id, last);
      this.live.delete(rec.id);
      this.scheduler.release(rec.id);
      this.prune();
      this.pump();
    });
    this.live.set(rec.id, { controller, tracker, done, abandon, cutover });
  }

  private async failed(rec: JobRecord, signal: AbortSignal, err: unknown): Promise<void> {
    this.fresh(rec);
    if (rec.state === 'cancelling') return this.finishCancel(rec);
    if (signal.aborted && !this.accepting) {
      // Stopped by SIGTERM: the record keeps its state and is resumed at the next start.
      this.log.info({ job: rec.id }, 'job stopped for shutdown; checkpoint kept');
      await this.persist(rec);
      return;
    }
    const error: JobError = isVmxferError(err)
      ? { code: err.code, category: err.category, message: err.message }
      : { code: 'VMX_INTERNAL', category: 'internal', message: (err as Error)?.message ?? String(err) };
    this.log.warn({ job: rec.id, code: error.code, err: error.message }, 'job failed');
    this.move(rec, 'failed', { error, phase: null, finishedAt: new Date().toISOString() });
  }

  private async finishCancel(rec: JobRecord): Promise<void> {
    try {
      await cleanupCancelled(rec, this.ctx);
    } catch (err) {
      this.log.warn({ job: rec.id, code: isVmxferError(err) ? err.code : undefined }, 'could not abort the multipart upload of a cancelled job');
    }
    if (!this.live.has(rec.id)) {
      await cancelStartedCloudTask(rec, this.ctx).catch((err: unknown) => {
        this.log.warn({ job: rec.id, code: isVmxferError(err) ? err.code : undefined }, 'could not cancel the cloud task of a cancelled job');
      });
    }
    const cancelled = vmxError(CORE.ABORTED, `job ${rec.id} cancelled through the API`);
    const outcome = rec.cloudOutcome ? { cloudOutcome: withCopiesCancelled(rec.cloudOutcome, { code: cancelled.code, reason: cancelled.message }) } : {};
    this.move(rec, 'cancelled', { ...outcome, phase: null, finishedAt: new Date().toISOString() });
  }

  /** A copy or share outcome: recorded, persisted in the background and published like a cloud task status. */
  private outcomeChanged(rec: JobRecord, change: (o: JobCloudOutcome) => JobCloudOutcome): void {
    const base = rec.cloudOutcome ?? (rec.imported ? outcomeOfImport(rec.imported) : undefined);
    if (!base) return;
    rec.cloudOutcome = change(base);
    this.fresh(rec);
    void this.persist(rec);
    this.emit('job', jobView(rec));
  }

  /** A new cloud task status: recorded, persisted in the background and published like a state change. */
  private cloudTaskChanged(rec: JobRecord, status: CloudTaskStatus): void {
    rec.cloudTask = { ...status };
    this.fresh(rec);
    void this.persist(rec);
    this.log.info({ job: rec.id, cloudTask: status.id, state: status.state, progress: status.progress }, 'cloud task');
    this.emit('job', jobView(rec));
  }

  /** Changes state (checked against the state machine), persists in the background and publishes. */
  private move(rec: JobRecord, state: JobState, patch: Partial<JobRecord> = {}): void {
    if (rec.state !== state) assertMove(rec.id, rec.state, state);
    Object.assign(rec, patch, { state });
    this.fresh(rec);
    void this.persist(rec);
    if (state !== 'active' || patch.phase) this.log.info({ job: rec.id, state, phase: rec.phase }, 'job state');
    this.emit('job', jobView(rec));
  }

  private persist(rec: JobRecord): Promise<void> {
    const p = this.store.save(structuredClone(rec)).catch((err) => {
      this.log.error({ job: rec.id, err: (err as Error).message }, 'could not persist a job record');
    });
    this.saves.add(p);
    void p.finally(() => this.saves.delete(p));
    return p;
  }

  /** Copies a running job's live progress into its record. */
  private fresh(rec: JobRecord): JobRecord {
    const l = this.live.get(rec.id);
    const parts = this.boards.get(rec.id);
    if (l && parts && !TERMINAL_STATES.has(rec.state)) rec.progress = progressOf(l.tracker.snapshot(), parts);
    return rec;
  }

  private tick(): void {
    this.ticks++;
    const sample = this.ticks % ((SAMPLE_SECONDS * 1000) / TICK_MS) === 0;
    for (const id of this.live.keys()) {
      const rec = this.records.get(id)!;
      const before = JSON.stringify(rec.progress);
      this.fresh(rec);
      if (JSON.stringify(rec.progress) !== before) this.emit('progress', id, { ...rec.progress });
      const changes = this.boards.get(id)?.takeChanges() ?? [];
      if (changes.length) this.emit('parts', id, changes);
      if (sample) this.histories.get(id)?.sample(rec.progress.bytesRead);
    }
  }

  private prune(): void {
    const finished = [...this.records.values()].filter((r) => TERMINAL_STATES.has(r.state));
    const excess = finished.length - this.ctx.config.jobs.keep_finished;
    if (excess <= 0) return;
    finished.sort((a, b) => (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''));
    for (const r of finished.slice(0, excess)) {
      this.records.delete(r.id);
      this.boards.delete(r.id);
      this.histories.delete(r.id);
      void this.store.delete(r.id).catch(() => undefined);
    }
  }
}
