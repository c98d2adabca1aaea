import type { DiskPosition } from '../core/progress.js';
import type { Finding } from '../cloud/preflight/finding.js';
import type { GuestReport } from '../guest/inspector.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import type { StartedImport } from '../cloud/tasks/import-step.js';
import type { ImportOptions } from '../cloud/upload-import/import-options.js';
import type { ExportOptions } from '../cloud/export-options.js';
import type { ExportedObject } from '../cloud/tasks/export-task.js';
import type { FinishedDisk } from '../cloud/tasks/export-disks.js';
import type { DownloadResult } from '../transfer/download.js';
import type { DistributeResult } from '../cloud/distribute/distribute-step.js';
import type { CopyOutcome } from '../cloud/distribute/copy-outcome.js';
import type { SyncPass } from '../workflows/sync.js';
import type { EbsUploadResult } from '../ebs/ebs-upload.js';

/** docs/api.md result.snapshot. */
export type EbsSnapshotResult = Omit<EbsUploadResult, 'seconds' | 'bytesSent'>;

/** The job model exactly as docs/api.md (v1) fixes it, plus what the daemon persists to resume a job. */

export const JOB_STATES = ['queued', 'validating', 'active', 'waiting', 'completed', 'failed', 'cancelling', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const JOB_PHASES = ['converting', 'uploading', 'downloading', 'verifying', 'importing', 'copying', 'sharing', 'exporting'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

export type JobKind = 'upload' | 'download' | 'convert' | 'export' | 'sync';

export const PART_STATES = ['pending', 'in-flight', 'done', 'skipped', 'failed'] as const;
export type PartState = (typeof PART_STATES)[number];

/** Targets of the API's `format` field; which of them this build writes is checked against WRITERS. */
export const API_FORMATS = ['vmdk', 'vhd', 'vhd-fixed', 'qcow2', 'raw', 'original'] as const;

export interface JobOptions {
  disk?: number | undefined;
  parent?: string | undefined;
  partSize?: number | undefined;
  concurrency?: number | undefined;
  storageClass?: string | undefined;
  encryption?: { algorithm: string; kmsKeyId?: string | undefined } | undefined;
  tags?: Record<string, string> | undefined;
  metadata?: Record<string, string> | undefined;
  /** Full-content SHA-256s instead of the default sha256-linear-512k digests (docs/integrity.md). */
  sha256?: boolean | undefined;
  /** Send only the parts changed since the last incremental upload to the destination (docs/warm-migration.md). */
  incremental?: boolean | undefined;
  /** A change list file (docs/warm-migration.md "Changed-block inputs"), read at each pass: only the parts or blocks it touches are read. */
  changedBlocks?: string | undefined;
}

export interface JobSync {
  everyMs?: number | undefined;
  passes?: number | undefined;
  cutover: boolean;
}

export interface JobProgress {
  bytesRead: number;
  totalBytes: number;
  bytesWritten: number;
  rate: number;
  etaSeconds: number | null;
  partsDone: number;
  partsInFlight: number;
  partsTotal: number | null;
  partSize: number;
  /** An upload: bytes the store confirmed, of the object's (projected, then exact) size; rate and ETA follow them. */
  bytesConfirmed?: number | undefined;
  outputBytes?: number | undefined;
  /** An export of several disks: the one downloading (or last done), 1-based; absent otherwise. */
  disk?: DiskPosition | undefined;
  /** Present while no byte has moved to or from the store for the stall timeout. */
  stalled?: true | undefined;
}

export interface JobResult {
  etag: string;
  objectSize: number;
  /** `<kind>:<hex>` digests (docs/integrity.md); an upload's source and object. */
  sourceDigest?: string | null | undefined;
  outputDigest?: string | null | undefined;
  /** The hex of those digests when they are full SHA-256s (options.sha256, or a vmxfer-sha256 tag checked). */
  sourceSha256: string | null;
  outputSha256: string | null;
  seconds: number;
  /** An upload: parts sent, parts the store copied from the object it held (options.incremental), and bytes sent. */
  partsSent?: number | undefined;
  partsCopied?: number | undefined;
  bytesSent?: number | undefined;
  /** An upload with an `import`: what the cloud made of the object (AMI, snapshot or ECS image ids). */
  import?: ImportedResult | undefined;
  /** An upload to ebs://: the snapshot written (docs/api.md "EBS snapshot destinations"). */
  snapshot?: EbsSnapshotResult | undefined;
  /** A download or export job with a `format`: the object's format, the target and how it was converted. */
  conversion?: DownloadResult['conversion'];
  /** An export job: the task and the object it wrote (then downloaded). */
  export?: ExportedObject | undefined;
  /** An ECS export of an image with data disks: each data disk's object and the file it was written to. */
  dataDisks?: Array<{ key: string; destination: string; objectSize: number; outputSha256: string | null }> | undefined;
}

/** What the cloud made of an upload: task and resource ids, then the copies and each image's shares when asked. */
export interface ImportedResult {
  target: string;
  taskIds: string[];
  resourceIds: string[];
  /** aws-snapshot with a boot mode or platform: the AMI ImportImage registered from the snapshots, and its task. */
  imageId?: string | undefined;
  imageTaskId?: string | undefined;
  copies?: DistributeResult['copies'] | undefined;
  shares?: DistributeResult['shares'] | undefined;
}

/**
 * docs/api.md Job.cloudOutcome: what the import has made so far, kept current while the job copies and
 * shares (each copy with its state, each image's shares once answered); at completion it agrees with
 * result.import.
 */
export interface JobCloudOutcome extends Omit<ImportedResult, 'copies' | 'shares'> {
  copies: CopyOutcome[];
  shares: DistributeResult['shares'];
}

export interface JobError {
  code: string;
  category: string;
  message: string;
}

/** What a job is asked to do: the submit body after validation (the API's JobSpec is one). */
export interface JobRequest {
  kind: JobKind;
  source: string;
  destination: string;
  format: string;
  options: JobOptions;
  import?: ImportOptions | undefined;
  export?: ExportOptions | undefined;
  sync?: JobSync | undefined;
  /** Higher runs first among queued jobs (docs/api.md "priority"); 0 when absent. */
  priority?: number | undefined;
  /** The name of the only agent that may run the job (its source is on that agent's disk); none: any agent. */
  affinity?: string | undefined;
}

/** The record format this build writes; job-record-migration.ts reads the older ones. */
export const JOB_SCHEMA = 2;

/** One job as a JobStore holds it (FileJobStore: <state_dir>/jobs/<id>.json, atomic, fsynced). */
export interface JobRecord extends LegacyStepFields {
  id: string;
  schema: typeof JOB_SCHEMA;
  /** Compare-and-set revision: every store write moves it on by one; a writer holding an older one gets JOB_CONFLICT. */
  version: number;
  /** The runner that claimed the job and runs it now; null while queued or finished. */
  owner: string | null;
  /** Admission key (store kind, bucket, region): at most `per_destination` jobs of one key run at once. */
  destinationKey: string;
  /** The step journal of the job's workflow: step name -> what the step left for a restart. */
  steps: Record<string, unknown>;
  kind: JobKind;
  state: JobState;
  phase: JobPhase | null;
  source: string;
  destination: string;
  format: string;
  options: JobOptions;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress;
  result: JobResult | null;
  error: JobError | null;
  attempts: number;
  /** The cloud import that follows the upload (docs/api.md "import"); absent or null: none. */
  import?: ImportOptions | null | undefined;
  /** The cloud task's last status (docs/api.md Job.cloudTask). */
  cloudTask?: CloudTaskStatus | null | undefined;
  /** The import or export preflight's repairs and warnings (role not verifiable, conversions vmxfer makes). */
  preflight?: Finding[] | null | undefined;
  /** Import jobs: the guest inspector's facts (docs/guest.md), recorded while the job validates. */
  guest?: GuestReport | null | undefined;
  /** What the import made so far, copies and shares included (docs/api.md Job.cloudOutcome). */
  cloudOutcome?: JobCloudOutcome | null | undefined;
  /** An export job's image export (docs/api.md "Export jobs"). */
  export?: ExportOptions | null | undefined;
  /** A sync job's schedule (docs/api.md "Sync jobs"); `cutover` turns true when one is requested. */
  sync?: JobSync | undefined;
  /** A sync job's finished passes, oldest first (docs/api.md Job.passes). */
  passes?: SyncPass[] | undefined;
  /** Higher runs first among queued jobs; 0 when absent. */
  priority?: number | undefined;
  /** The only agent (by `agent.name`) that may claim the job; null or absent: any agent. */
  affinity?: string | null | undefined;
  /** The name of the agent that claimed the job last (shown while it runs and after it finished). */
  agent?: string | null | undefined;
}

/**
 * Persisted, not shown, by records written before `steps`: read only to move them into `steps`
 * (agent/jobs/record-step-journal.ts) and never written again.
 */
export interface LegacyStepFields {
  uploaded?: JobResult | null | undefined;
  importTask?: StartedImport | null | undefined;
  imported?: ImportedResult | null | undefined;
  copiesStarted?: Record<string, string> | null | undefined;
  exportTask?: { taskId: string } | null | undefined;
  exported?: ExportedObject | null | undefined;
  downloadedDisks?: FinishedDisk<JobResult>[] | null | undefined;
}

export interface PartView {
  n: number;
  state: PartState;
}

/** The API's Job: the record plus, for GET one job only, its parts and throughput history. */
export interface JobView extends Omit<JobRecord, 'schema' | 'version' | 'owner' | 'destinationKey' | 'steps' | 'options' | keyof LegacyStepFields | 'cloudTask' | 'cloudOutcome' | 'import' | 'export' | 'agent' | 'affinity' | 'priority'> {
  options: JobOptions;
  agent: string | null;
  affinity: string | null;
  priority: number;
  cloudOutcome: JobCloudOutcome | null;
  import: ImportOptions | null;
  export?: ExportOptions | undefined;
  cloudTask: CloudTaskStatus | null;
  parts?: PartView[];
  throughput?: Array<[number, number]>;
}

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

export function emptyProgress(): JobProgress {
  return { bytesRead: 0, totalBytes: 0, bytesWritten: 0, rate: 0, etaSeconds: null, partsDone: 0, partsInFlight: 0, partsTotal: null, partSize: 0 };
}

/** A record of the current schema (older ones go through migrateJobRecord first). */
export function isJobRecord(x: unknown): x is JobRecord {
  const j = x as JobRecord;
  return (
    typeof j === 'object' && j !== null && j.schema === JOB_SCHEMA && Number.isInteger(j.version) && typeof j.id === 'string' &&
    (JOB_STATES as readonly string[]).includes(j.state) && typeof j.source === 'string' &&
    typeof j.destination === 'string' && typeof j.format === 'string' && typeof j.options === 'object' &&
    typeof j.progress === 'object' && j.progress !== null && typeof j.createdAt === 'string' && typeof j.attempts === 'number' &&
    (j.owner === null || typeof j.owner === 'string') && typeof j.destinationKey === 'string' && typeof j.steps === 'object' && j.steps !== null
  );
}
