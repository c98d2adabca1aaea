import { EventEmitter } from 'node:events';
import { ProgressTracker } from '../core/progress.js';
import { PartBoard } from './part-board.js';
import { SAMPLE_SECONDS, ThroughputHistory } from './throughput-history.js';
import { progressOf } from './job-view.js';
import type { JobProgress, PartView } from './job-types.js';

/** docs/api.md: progress and parts at most 4 times per second per job. */
const TICK_MS = 250;

interface Run {
  tracker: ProgressTracker;
  parts: PartBoard;
  history: ThroughputHistory;
  last: string;
}

export interface LiveProgressEvents {
  progress: [string, JobProgress];
  parts: [string, PartView[]];
}

/**
 * The progress of the jobs this process runs: a tracker, a part board and a throughput history per
 * job, published at most 4 times per second. It is never persisted (a record holds the last
 * progress written with it); a finished job's board and history stay until `forget`.
 */
export class LiveProgress extends EventEmitter<LiveProgressEvents> {
  private readonly runs = new Map<string, Run>();
  private readonly running = new Set<string>();
  private ticker: NodeJS.Timeout | undefined;
  private ticks = 0;

  start(id: string): { tracker: ProgressTracker; parts: PartBoard } {
    const run = { tracker: new ProgressTracker(), parts: new PartBoard(), history: new ThroughputHistory(), last: '' };
    this.runs.set(id, run);
    this.running.add(id);
    this.ticker ??= setInterval(() => this.tick(), TICK_MS).unref();
    return run;
  }

  /** The run ended: its last part changes go out and its progress stops moving. */
  stop(id: string): void {
    if (!this.running.delete(id)) return;
    const last = this.runs.get(id)?.parts.takeChanges() ?? [];
    if (last.length) this.emit('parts', id, last);
  }

  forget(id: string): void {
    this.stop(id);
    this.runs.delete(id);
  }

  /** A running job's progress now; undefined when this process does not run it. */
  progress(id: string): JobProgress | undefined {
    const run = this.running.has(id) ? this.runs.get(id) : undefined;
    return run && progressOf(run.tracker.snapshot(), run.parts);
  }

  /** The final progress of a run that ended: the totals, no rate left. */
  final(id: string): JobProgress | undefined {
    const run = this.runs.get(id);
    return run && { ...progressOf(run.tracker.snapshot(), run.parts), partsTotal: run.parts.size || null, rate: 0, etaSeconds: 0 };
  }

  detail(id: string): { parts: PartView[]; throughput: Array<[number, number]> } {
    const run = this.runs.get(id);
    return { parts: run?.parts.list() ?? [], throughput: run?.history.list() ?? [] };
  }

  /** Jobs this process runs now (an agent's heartbeat reports them, agent/fleet/agent-heartbeat.ts). */
  get runningCount(): number {
    return this.running.size;
  }

  /** Virtual bytes the running jobs still have to read. */
  remainingBytes(): number {
    let n = 0;
    for (const id of this.running) {
      const s = this.runs.get(id)!.tracker.snapshot();
      n += Math.max(0, s.totalBytes - s.bytesRead);
    }
    return n;
  }

  close(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private tick(): void {
    this.ticks++;
    const sample = this.ticks % ((SAMPLE_SECONDS * 1000) / TICK_MS) === 0;
    for (const id of this.running) {
      const run = this.runs.get(id)!;
      const progress = progressOf(run.tracker.snapshot(), run.parts);
      const text = JSON.stringify(progress);
      if (text !== run.last) this.emit('progress', id, progress);
      run.last = text;
      const changes = run.parts.takeChanges();
      if (changes.length) this.emit('parts', id, changes);
      if (sample) run.history.sample(progress.bytesRead);
    }
  }
}
