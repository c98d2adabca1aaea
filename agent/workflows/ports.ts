import type { CloudTaskStatus } from '../cloud/task-events.js';
import type { PollPolicy } from '../cloud/poll-task.js';
import type { CloudConnections } from '../cloud/upload-import/import-step-params.js';
import type { Finding } from '../cloud/preflight/finding.js';
import type { GuestReport } from '../guest/inspector.js';
import type { ProgressTracker } from '../core/progress.js';
import type { OpenedSink, StoreConnection } from '../sinks/open-sink.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import type { CopyOutcome } from '../cloud/distribute/copy-outcome.js';
import type { ImportStepResult } from '../cloud/tasks/import-step.js';
import type { ImageShares } from '../cloud/distribute/distribute-step.js';

/**
 * Where a workflow records what it has done: a step that completed is not run again after a restart
 * (no second ImportImage, CopyImage or export task after a kill -9). The CLI keeps it in memory; the
 * daemon in the job record's `steps`, persisted before `once` or `note` resolves.
 */
export interface StepJournal {
  /** The recorded value of a completed step, else runs `fn` and records its value durably. */
  once<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Records a value durably (a started task's id) before the step goes on. */
  note(name: string, value: unknown): Promise<void>;
  read<T>(name: string): T | undefined;
}

/** Builds every sink: the store connection of a URL from one configuration model (flags over profiles over `stores`). */
export interface SinkFactory {
  /** `signing`: what the run adds to the configuration's connection (the cloud connection's credential). */
  open(url: string, signing?: Pick<StoreConnection, 'credential'>): Promise<OpenedSink>;
  openBucket(url: string, listPageSize?: number): Promise<{ sink: ObjectSink; prefix: string }>;
}

/** The cloud the workflows talk to: connections, the poll cadence, and which aborts cancel a task. */
export interface CloudPort {
  connections: CloudConnections;
  poll: PollPolicy;
  /** Whether an abort with this reason cancels the cloud task (a daemon stopping keeps it for the next start). */
  cancelOnAbort?: ((reason: unknown) => boolean) | undefined;
  /** A throttled or failed cloud call about to be retried. */
  onRetry?: ((code: string) => void) | undefined;
}

export type WorkflowPhase = 'importing' | 'copying' | 'sharing' | 'exporting' | 'downloading';

/** What a workflow tells its front end: the terminal renders it, the daemon records and publishes it. */
export interface WorkflowReporter {
  phase(phase: WorkflowPhase): void;
  /** The preflight's repairs and warnings (never errors). */
  validated(findings: Finding[]): void;
  /** What the guest inspection of an import's source found, before its rules judge it. */
  guest(report: GuestReport): void;
  cloudTask(status: CloudTaskStatus): void;
  /** The import finished and copies or shares follow; then a copy changed state, or an image's shares answered. */
  outcome(change: { imported: ImportStepResult } | { copy: CopyOutcome } | { shares: ImageShares }): void;
}

export interface WorkflowPorts {
  journal: StepJournal;
  sinks: SinkFactory;
  cloud: CloudPort;
  reporter: WorkflowReporter;
  progress: ProgressTracker;
  signal: AbortSignal;
  /**
   * The lease check before a step another agent could not undo: completing a multipart upload,
   * starting a cloud task. Throws (JOB_FENCED) when the job passed to another agent; absent: the
   * CLI, which owns its run alone.
   */
  fence?: (() => Promise<void>) | undefined;
}
