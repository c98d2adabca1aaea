/** The daemon's JSON shapes, exactly as docs/api.md (v1) fixes them. */

export const JOB_STATES = ['queued', 'validating', 'active', 'waiting', 'completed', 'failed', 'cancelling', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const PART_STATES = ['pending', 'in-flight', 'done', 'skipped', 'failed'] as const;
export type PartState = (typeof PART_STATES)[number];

export const OUTPUT_FORMATS = ['vmdk', 'vhd', 'vhd-fixed', 'qcow2', 'raw', 'original'] as const;

export interface Progress {
  bytesRead: number;
  totalBytes: number;
  bytesWritten: number;
  rate: number;
  etaSeconds: number | null;
  partsDone: number;
  partsInFlight: number;
  partsTotal: number | null;
  partSize: number;
  /** An upload: bytes the store confirmed, of the object's projected (then exact) size. */
  bytesConfirmed?: number;
  outputBytes?: number;
  /** An export of several disks: the one downloading, 1-based. */
  disk?: { index: number; count: number };
  /** Present while no byte has moved to or from the store for the stall timeout. */
  stalled?: true;
}

export interface Part {
  n: number;
  state: PartState;
}

export interface ApiError {
  code: string;
  category: string;
  message: string;
  field?: string;
}

export interface Job {
  id: string;
  kind: string;
  state: JobState;
  phase: string | null;
  source: string;
  destination: string;
  format: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: Progress;
  parts?: Part[];
  result: {
    etag: string; objectSize: number; sourceSha256: string | null; outputSha256: string | null; seconds: number;
    sourceDigest?: string | null; outputDigest?: string | null;
    import?: ImportOutcome;
    export?: { taskId: string; bucket: string; key: string; dataKeys?: string[] };
    dataDisks?: DataDisk[];
    conversion?: { from: string; to: string; mode: 'stream' | 'local'; outputBytes: number; outputSha256: string };
  } | null;
  error: ApiError | null;
  /** The import or export task of a cloud job, as the daemon last saw it (docs/api.md Job.cloudTask). */
  cloudTask: { kind: string; id: string; state: string; message: string; progress?: number } | null;
  /** What the import or export preflight warned of or will repair (docs/api.md Job.preflight). */
  preflight?: Finding[];
  /** What the import made so far, each copy with its state (docs/api.md Job.cloudOutcome); null until the import ends. */
  cloudOutcome?: CloudOutcomeSoFar | null;
  /** A sync job's finished passes (docs/api.md "Sync jobs"). */
  passes?: SyncPass[];
  /** The agent that runs or ran the job, the only agent that may (affinity), and its queue priority (docs/api.md Job). */
  agent?: string | null;
  affinity?: string | null;
  priority?: number;
  attempts: number;
  throughput?: Array<[number, number]>;
}

/** docs/api.md Job.passes: one incremental pass of a sync job. */
export interface SyncPass {
  n: number;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  bytesRead?: number;
  bytesSent?: number;
  partsSent?: number;
  partsCopied?: number;
  final: boolean;
}

/** docs/api.md Job.result.import: the task and resource ids, the AMI registered from snapshots, copies and shares. */
export interface ImportOutcome {
  target: string;
  taskIds: string[];
  resourceIds: string[];
  imageId?: string;
  imageTaskId?: string;
  copies?: ImageCopy[];
  shares?: ImageShares[];
}

export interface ImageCopy {
  region: string;
  imageId: string;
}

export type CopyState = 'copying' | 'available' | 'failed' | 'cancelled';

/** docs/api.md Job.cloudOutcome.copies: a copy (imageId null until CopyImage named it), its state and, when it ended badly, why. */
export interface CopyProgress {
  region: string;
  imageId: string | null;
  state: CopyState;
  code?: string;
  cloudCode?: string;
  reason?: string;
}

/** docs/api.md Job.cloudOutcome: result.import's ids, the copies with their state and the shares known so far. */
export interface CloudOutcomeSoFar extends Omit<ImportOutcome, 'copies' | 'shares'> {
  copies: CopyProgress[];
  shares: ImageShares[];
}

export interface ImageShares {
  region: string;
  imageId: string;
  accounts: Array<{ account: string; shared: boolean; cloudCode?: string; message?: string }>;
  community?: { published: boolean; cloudCode?: string; message?: string };
}

/** docs/api.md Job.result.dataDisks: one ECS data disk's object and the file it was downloaded to. */
export interface DataDisk {
  key: string;
  destination: string;
  objectSize: number;
  outputSha256: string | null;
}

export interface Finding {
  severity: 'error' | 'repair' | 'warning';
  rule: string;
  cloudCode: string;
  message: string;
  hint: string;
  convertTo?: string;
}

/** docs/api.md Agent: one agent of the fleet as its last heartbeat left it. */
export interface Agent {
  name: string;
  version: string;
  lastHeartbeat: string;
  runningJobs: number;
  freeSlots: number;
  state: 'starting' | 'ready' | 'stopping' | 'stopped' | 'lost';
}

export type FeedMessage =
  | { type: 'snapshot'; jobs: Job[] }
  | { type: 'job'; job: Job }
  | { type: 'progress'; id: string; progress: Progress }
  | { type: 'parts'; id: string; parts: Part[] }
  | { type: 'agents'; agents: Agent[] };

/** States from which a cancel is meaningful (docs/api.md: cancel moves a job to cancelling, then cancelled). */
export function isCancellable(state: JobState): boolean {
  return state === 'queued' || state === 'validating' || state === 'active' || state === 'waiting';
}
