import { setTimeout as sleep } from 'node:timers/promises';
import type { StepJournal } from './ports.js';

/** docs/api.md Job.passes: one incremental pass of a sync (docs/warm-migration.md "Sync"). */
export interface SyncPass {
  n: number;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** The counts of the pass's incremental upload (the CLI renders its own summary instead). */
  bytesRead?: number | undefined;
  bytesSent?: number | undefined;
  partsSent?: number | undefined;
  partsCopied?: number | undefined;
  /** The cutover pass: the VM is stopped, the import (if any) follows it. */
  final: boolean;
}

/** What one pass reports back (an incremental upload's counts). */
export type PassCounts = Required<Pick<SyncPass, 'bytesRead' | 'bytesSent' | 'partsSent' | 'partsCopied'>>;

export interface SyncSchedule {
  /** Start a pass this long after the previous one started (a pass that overruns is followed at once). */
  everyMs?: number | undefined;
  /** Stop after this many passes (absent: one pass without everyMs, until a cutover or cancel with it). */
  passes?: number | undefined;
}

/**
 * A cutover request: set before the job starts (`--cutover`, `sync.cutover`) or while it runs
 * (`POST /v1/jobs/ID/cutover`); a wait between passes ends as soon as it is requested.
 */
export class Cutover {
  private wake = new AbortController();

  constructor(private asked = false) {}

  get requested(): boolean {
    return this.asked;
  }

  request(): void {
    this.asked = true;
    this.wake.abort();
  }

  /** Waits `ms`, less if a cutover is requested; throws only when `signal` aborts. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.asked) return;
    this.wake = new AbortController();
    await sleep(ms, undefined, { signal: AbortSignal.any([signal, this.wake.signal]) }).catch((err: unknown) => {
      if (signal.aborted) throw signal.reason ?? err;
    });
  }
}

export interface SyncWorkflowRequest<R> {
  schedule: SyncSchedule;
  cutover: Cutover;
  /**
   * One pass: an incremental upload (and, when `final`, the import). `journal` is the pass's own
   * scope of the journal, so its upload and import steps are recorded per pass.
   */
  pass(n: number, final: boolean, journal: StepJournal): Promise<{ result: R; counts?: PassCounts | undefined }>;
  /** Each finished pass, with the list so far. */
  onPass?: ((pass: SyncPass, all: SyncPass[]) => void) | undefined;
  /** Told how long until the next pass, before waiting. */
  onWait?: ((ms: number, next: number) => void) | undefined;
}

/** The journal's record of the finished passes; the pass in flight at a restart resumes from its upload checkpoint. */
export const SYNC_PASSES = 'sync.passes';

/** The steps of pass `n`, under their own names in the job's journal. */
export function passJournal(journal: StepJournal, n: number): StepJournal {
  const p = `sync.pass.${n}.`;
  return { once: (name, fn) => journal.once(p + name, fn), note: (name, v) => journal.note(p + name, v), read: (name) => journal.read(p + name) };
}

/**
 * `vmxfer sync` and a sync job: incremental passes on a schedule, each recorded in the journal, until
 * the pass limit, an interrupt, or a cutover (one final pass, then the import). A restart counts the
 * recorded passes and goes on with the next one. Returns every pass and the last pass's result.
 */
export async function syncWorkflow<R>(req: SyncWorkflowRequest<R>, ports: { journal: StepJournal; signal: AbortSignal }): Promise<{ passes: SyncPass[]; last: R | undefined }> {
  const passes = [...(ports.journal.read<SyncPass[]>(SYNC_PASSES) ?? [])];
  const limit = req.schedule.passes ?? (req.schedule.everyMs === undefined ? 1 : Infinity);
  let last: R | undefined;
  for (;;) {
    const prev = passes.at(-1);
    if (prev?.final || (passes.length >= limit && !req.cutover.requested)) break;
    if (prev && passes.length < limit && !req.cutover.requested) {
      const wait = Math.max(0, Date.parse(prev.startedAt) + (req.schedule.everyMs ?? 0) - Date.now());
      req.onWait?.(wait, passes.length + 1);
      await req.cutover.wait(wait, ports.signal);
    }
    const n = passes.length + 1;
    const final = req.cutover.requested;
    const started = new Date();
    const { result, counts } = await req.pass(n, final, passJournal(ports.journal, n));
    last = result;
    const finished = new Date();
    passes.push({ n, startedAt: started.toISOString(), finishedAt: finished.toISOString(), seconds: (finished.getTime() - started.getTime()) / 1000, ...counts, final });
    await ports.journal.note(SYNC_PASSES, passes);
    req.onPass?.(passes.at(-1)!, passes);
  }
  // A restart after the last pass was recorded: its steps are in the journal, so this runs none again.
  if (last === undefined && passes.length) last = (await req.pass(passes.length, passes.at(-1)!.final, passJournal(ports.journal, passes.length))).result;
  return { passes, last };
}
