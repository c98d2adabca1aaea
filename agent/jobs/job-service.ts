import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { isVmxferError, vmxError } from '../core/errors.js';
import { CORE } from '../core/error-codes.js';
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
import { Cutover, type SyncPass } from '../workflows/sync.js';
import { destinationKey, type RunContext } from './run-context.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import type { JobChange, JobStore } from './job-store.js';
import type { LiveProgress } from './live-progress.js';
import { fencedError, JobWriter } from './job-writer.js';
import {
  TERMINAL_STATES, emptyProgress,
  type JobCloudOutcome, type JobError, type JobKind, type JobPhase, type JobRecord, type JobRequest, type JobState, type JobView,
} from './job-types.js';

/** The phase a job enters when it becomes active. */
const FIRST_PHASE: Record<JobKind, JobPhase> = { download: 'downloading', convert: 'converting', upload: 'uploading', export: 'exporting', sync: 'uploading' };

/** What runs a claimed job and cleans up after a cancel: the real runner, or a test's. */
export interface JobRunner {
  run: typeof runJob;
  cleanup: typeof cleanupCancelled;
  cancelCloudTask: typeof cancelStartedCloudTask;
}

const REAL_RUNNER: JobRunner = { run: runJob, cleanup: cleanupCancelled, cancelCloudTask: cancelStartedCloudTask };

interface Run {
  controller: AbortController;
  done: Promise<void>;
  /** Ends the run at once without waiting for it (a cancel while it validates). */
  abandon(reason: unknown): void;
  /** A sync job's cutover request, which ends its wait between passes. */
  cutover: Cutover;
}

/**
 * The job lifecycle of one runner: submit puts a job in the store, the claim loop takes queued jobs
 * within the admission limits (applied by the store), a claimed job runs, a cancel is a request the
 * job's owner sees in the store's changes. Records live in the store, live progress in LiveProgress.
 */
export class JobService {
  /** The records of the jobs this runner owns and runs, as the run changes them. */
  private readonly working = new Map<string, JobRecord>();
  private readonly runs = new Map<string, Run>();
  private readonly writer: JobWriter;
  private unsubscribe: (() => void) | undefined;
  private accepting = false;
  private claiming = false;
  private claimAgain = false;
  /** Ownerless cancels being finished here (a second recovery must not start them again). */
  private readonly finishing = new Set<string>();

  constructor(
    private readonly store: JobStore,
    private readonly live: LiveProgress,
    private ctx: RunContext,
    private readonly log: Logger,
    private readonly runner: JobRunner = REAL_RUNNER,
    readonly owner = `${hostname()}:${process.pid}:${randomUUID()}`,
  ) {
    this.writer = new JobWriter(store, (rec) => this.cancelRequested(rec), log, owner, (id, stored) => this.takenOver(id, stored));
  }

  private limits() {
    return { global: this.ctx.config.jobs.max_concurrent, perDestination: this.ctx.config.jobs.per_destination, agent: this.ctx.agentName || undefined };
  }

  /** Jobs whose runner stopped or crashed go back to the queue, cancels are finished, then the claim loop runs. */
  async start(): Promise<void> {
    await this.recoverOrphans();
    this.unsubscribe = this.store.subscribe((c) => this.changed(c));
    this.accepting = true;
    this.pump();
  }

  /** The store's recovery (a runner gone: at start, or when a shared store saw a lease lapse), then ownerless cancels finished. */
  private async recoverOrphans(): Promise<void> {
    for (const r of await this.store.recover()) {
      if (r.was !== 'cancelling') this.log.info({ job: r.id, was: r.was }, 'resuming interrupted job');
    }
    for (const rec of await this.store.list(new Set<JobState>(['cancelling']))) {
      if (rec.owner === null && !this.runs.has(rec.id) && !this.finishing.has(rec.id)) void this.finishCancel(rec);
    }
  }

  reconfigure(ctx: RunContext): void {
    this.ctx = ctx;
    this.pump();
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  async submit(spec: JobRequest): Promise<JobView> {
    if (!this.accepting) throw vmxError(JOB.NOT_ACCEPTING, 'the daemon is stopping and takes no new jobs');
    const rec = await this.store.create({
      id: newJobId(), owner: null, destinationKey: destinationKey(spec.kind, spec.source, spec.destination, this.ctx.config), steps: {},
      kind: spec.kind, state: 'queued', phase: null,
      source: spec.source, destination: spec.destination, format: spec.format, options: spec.options,
      createdAt: new Date().toISOString(), startedAt: null, finishedAt: null,
      progress: emptyProgress(), result: null, error: null, attempts: 0,
      // One ClientToken for the job's whole life: a retried or restarted ImportImage returns the same task.
      import: spec.import ? withCopyTokens({ ...spec.import, clientToken: randomUUID() }) : null, cloudTask: null,
      ...(spec.export ? { export: withExportToken(spec.export) } : {}),
      ...(spec.sync ? { sync: spec.sync, passes: [] } : {}),
    });
    this.log.info({ job: rec.id, kind: rec.kind, format: rec.format }, 'job submitted');
    return jobView(rec);
  }

  /** Asks the job's owner to stop it; a job nobody runs is finished here. */
  async cancel(id: string): Promise<JobView> {
    const rec = await this.store.get(id);
    if (!rec) throw vmxError(JOB.NOT_FOUND, `no job ${id}`);
    if (rec.state === 'cancelling') return jobView(rec);
    const requested = await this.store.requestCancel(id);
    if (requested.owner === null) void this.finishCancel(requested);
    return jobView({ ...requested, progress: this.live.progress(id) ?? requested.progress });
  }

  /**
   * docs/api.md "Sync jobs": the next pass is the final one (at once when the job waits), then the
   * import. The owner of a running job hears it now; a queued one finds it in its record when claimed.
   */
  async cutover(id: string): Promise<JobView> {
    const working = this.working.get(id);
    const rec = working ?? (await this.store.get(id));
    if (!rec) throw vmxError(JOB.NOT_FOUND, `no job ${id}`);
    if (rec.kind !== 'sync' || !rec.sync) throw vmxError(JOB.NOT_SYNC, `job ${id} is a ${rec.kind} job; only a sync job has a cutover`);
    if (TERMINAL_STATES.has(rec.state) || rec.state === 'cancelling') throw vmxError(JOB.NOT_SYNC, `job ${id} is already ${rec.state}`);
    rec.sync = { ...rec.sync, cutover: true };
    if (working) await this.persist(working);
    else await this.store.update(id, rec.version, rec);
    this.runs.get(id)?.cutover.request();
    this.log.info({ job: id }, 'sync cutover requested');
    return jobView({ ...rec, progress: this.live.progress(id) ?? rec.progress });
  }

  /** Stops taking jobs and stops the running ones; their checkpoints and uploads stay for the next start. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.accepting = false;
    for (const [id, r] of this.runs) r.controller.abort(vmxError(JOB.SHUTDOWN, `the daemon is stopping; job ${id} resumes at the next start`));
    const all = Promise.allSettled([...this.runs.values()].map((r) => r.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    await this.writer.settled();
    this.unsubscribe?.();
    this.live.close();
  }

  private changed(c: JobChange): void {
    if (c.type === 'orphaned') {
      void this.recoverOrphans().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'could not recover jobs'));
      return;
    }
    if (c.type !== 'put') return;
    const mine = this.working.get(c.record.id);
    // Another runner took the job over (our lease ran out): the run stops now (fencing).
    if (mine && !TERMINAL_STATES.has(mine.state) && c.record.owner !== this.owner) this.writer.takenOver(c.record.id, c.record);
    // A job queued or a slot freed (a finished job has no owner): the claim loop looks again.
    if (c.record.state === 'queued' || TERMINAL_STATES.has(c.record.state)) this.pump();
    if (TERMINAL_STATES.has(c.record.state)) void this.prune();
    if (c.record.state === 'cancelling' && c.record.owner === this.owner) this.cancelRequested(c.record);
  }

  /**
   * The job is another runner's now (JOB_FENCED): the run is stopped and left at once; nothing more is
   * written for it, no upload completed and no cloud task started (the workflow's fence checks).
   */
  private takenOver(id: string, stored: JobRecord | undefined): void {
    this.log.warn({ job: id, owner: stored?.owner ?? null, agent: stored?.agent ?? null }, 'job taken over by another runner; stopping it here');
    const run = this.runs.get(id);
    if (!run) return;
    const reason = fencedError(id, stored);
    run.controller.abort(reason);
    run.abandon(reason);
  }

  /** The store says a job this runner owns is to be cancelled: the run stops, the run's end finishes the cancel. */
  private cancelRequested(stored: JobRecord): void {
    const rec = this.working.get(stored.id);
    if (!rec || rec.state === 'cancelling' || TERMINAL_STATES.has(rec.state)) return;
    const validating = rec.state === 'validating';
    rec.state = 'cancelling';
    rec.version = Math.max(rec.version, stored.version);
    const run = this.runs.get(rec.id);
    if (!run) return;
    const reason = vmxError(CORE.ABORTED, `job ${rec.id} cancelled through the API`);
    run.controller.abort(reason);
    // Validation may wait on what no signal interrupts (an open(2) of a FIFO blocks until a writer
    // comes); nothing is written before it ends, so the job ends now and the run is left to unwind.
    if (validating) run.abandon(reason);
  }

  /** The claim loop: one claim at a time, another one after it when something changed meanwhile. */
  private pump(): void {
    if (!this.accepting) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    this.store.claim(this.owner, this.limits()).then(
      (claimed) => claimed.forEach((rec) => this.begin(rec)),
      (err) => this.log.error({ err: (err as Error).message }, 'could not claim jobs'),
    ).finally(() => {
      this.claiming = false;
      if (this.claimAgain) {
        this.claimAgain = false;
        this.pump();
      }
    });
  }

  private begin(rec: JobRecord): void {
    const controller = new AbortController();
    const { tracker, parts } = this.live.start(rec.id);
    this.writer.own(rec.id);
    this.working.set(rec.id, rec);
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
        void this.persist(rec);
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
      fence: () => this.writer.touch(this.fresh(rec)),
      onOutcome: (change: OutcomeChange) => {
        if ('imported' in change) {
          // A restarted run reports the journaled import again: the copies and shares recorded since stay.
          const fresh = outcomeOfImport(importedResult(change.imported));
          if (rec.cloudOutcome?.resourceIds.join() === fresh.resourceIds.join()) return;
          rec.cloudOutcome = fresh;
          void this.persist(rec);
        } else if ('copy' in change) this.outcomeChanged(rec, (o) => withCopy(o, change.copy, (rec.import?.copy ?? []).map((c) => c.region)));
        else this.outcomeChanged(rec, (o) => withShares(o, change.shares));
      },
    };
    let abandon!: (reason: unknown) => void;
    const abandoned = new Promise<never>((_, reject) => (abandon = reject));
    const ran = this.runner.run(rec, this.ctx, run);
    ran.catch(() => undefined);
    const done = Promise.race([ran, abandoned]).then(
      (result) => {
        if (this.writer.isFenced(rec.id)) return;
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
      this.writer.disown(rec.id);
      this.live.stop(rec.id);
      this.runs.delete(rec.id);
      this.working.delete(rec.id);
      this.pump();
    });
    this.runs.set(rec.id, { controller, done, abandon, cutover });
  }

  private async failed(rec: JobRecord, signal: AbortSignal, err: unknown): Promise<void> {
    if (this.writer.isFenced(rec.id)) {
      this.log.info({ job: rec.id }, 'job stopped: another runner has it now');
      return;
    }
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
    this.finishing.add(rec.id);
    try {
      await this.cancelNow(rec);
    } finally {
      this.finishing.delete(rec.id);
    }
  }

  private async cancelNow(rec: JobRecord): Promise<void> {
    try {
      await this.runner.cleanup(rec, this.ctx);
    } catch (err) {
      this.log.warn({ job: rec.id, code: isVmxferError(err) ? err.code : undefined }, 'could not abort the multipart upload of a cancelled job');
    }
    if (!this.runs.has(rec.id)) {
      await this.runner.cancelCloudTask(rec, this.ctx).catch((err: unknown) => {
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
    void this.persist(rec);
  }

  /** A new cloud task status: recorded, persisted in the background and published like a state change. */
  private cloudTaskChanged(rec: JobRecord, status: CloudTaskStatus): void {
    rec.cloudTask = { ...status };
    void this.persist(rec);
    this.log.info({ job: rec.id, cloudTask: status.id, state: status.state, progress: status.progress }, 'cloud task');
  }

  /** Changes state (checked against the state machine) and persists in the background; a finished job has no owner. */
  private move(rec: JobRecord, state: JobState, patch: Partial<JobRecord> = {}): void {
    if (rec.state !== state) assertMove(rec.id, rec.state, state);
    Object.assign(rec, patch, { state }, TERMINAL_STATES.has(state) ? { owner: null } : {});
    void this.persist(rec);
    if (state !== 'active' || patch.phase) this.log.info({ job: rec.id, state, phase: rec.phase }, 'job state');
  }

  private persist(rec: JobRecord): Promise<void> {
    return this.writer.write(this.fresh(rec));
  }

  /** Copies a running job's live progress into its record. */
  private fresh(rec: JobRecord): JobRecord {
    const progress = TERMINAL_STATES.has(rec.state) ? undefined : this.live.progress(rec.id);
    if (progress) rec.progress = progress;
    return rec;
  }

  /** Retention (`jobs.keep_finished`): the oldest finished jobs leave the store. */
  private async prune(): Promise<void> {
    const finished = await this.store.list(TERMINAL_STATES);
    const excess = finished.length - this.ctx.config.jobs.keep_finished;
    if (excess <= 0) return;
    finished.sort((a, b) => (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''));
    for (const r of finished.slice(0, excess)) {
      this.live.forget(r.id);
      await this.store.remove(r.id).catch(() => undefined);
    }
  }
}
