import { randomBytes } from 'node:crypto';

export class RpcError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface EcsTask {
  id: string;
  action: 'ImportImage' | 'ExportImage';
  region: string;
  script: string[];
  step: number;
  cancelled: boolean;
  imageId: string;
  /** ExportImage: the objects written into `objects` when the task finishes, one per disk (system first). */
  outputs?: string[] | undefined;
  /** A Failed task's reason, as DescribeTaskAttribute reports it in OperationProgress. */
  failure?: { code: string; message: string } | undefined;
}

/** One entry of the fake's own run log; a copy's region is its source region (where ECS counts it). */
export interface RunLogEntry {
  action: 'ImportImage' | 'ExportImage' | 'CopyImage';
  region: string;
  id: string;
  start: number;
  end?: number | undefined;
}

export interface EcsImage {
  id: string;
  region: string;
  name: string;
  script: Array<{ status: string; progress: string }>;
  step: number;
  disks: Array<{ type: string; size: number; encrypted: boolean }>;
  /** For a copy: the source image and region whose copy slot it holds while not Available. */
  copyOf?: { image: string; region: string } | undefined;
}

export function ecsId(prefix: string): string {
  return `${prefix}-${randomBytes(10).toString('hex').slice(0, 20)}`;
}

export const IMPORT_TASK_SCRIPT = ['Waiting', 'Processing', 'Processing', 'Finished'];
export const EXPORT_TASK_SCRIPT = ['Waiting', 'Processing', 'Finished'];
export const IMAGE_SCRIPT = [
  { status: 'Creating', progress: '50%' },
  { status: 'Available', progress: '100%' },
];

export class EcsWorld {
  readonly tasks = new Map<string, EcsTask>();
  readonly images = new Map<string, EcsImage>();
  readonly tokens = new Map<string, string>();
  readonly shares = new Map<string, string[]>();
  /** Images published as community images (ModifyImageSharePermission IsPublic=true). */
  readonly published = new Set<string>();
  /** Copies removed by CancelCopyImage. */
  readonly cancelledCopies = new Set<string>();
  readonly roles = new Map<string, string>();
  /** OSS bucket/object → bytes (ExportImage writes here). */
  readonly objects = new Map<string, Buffer>();
  exportBytes = Buffer.alloc(0);
  /** Per-disk export bytes (index 0 the system disk); `exportBytes` for a disk without an entry. */
  exportDiskBytes: Buffer[] = [];
  /** The reason the next task reaching Failed reports (DescribeTaskAttribute ErrorCode/ErrorMsg). */
  taskFailure = { code: 'ParameterInvalid', message: 'The specified RegionId parameter is invalid.' };
  /** Account ids ModifyImageSharePermission answers InvalidAccount.NotFound for. */
  readonly unknownAccounts = new Set<string>();
  /** OSS buckets; `location` is GetBucketInfo's Location (default oss-cn-hangzhou, the tests' region). */
  readonly buckets = new Map<string, { storageClass: string; sse?: string | undefined; location?: string | undefined }>();
  scripts = { importTask: IMPORT_TASK_SCRIPT, exportTask: EXPORT_TASK_SCRIPT, image: IMAGE_SCRIPT, copy: [{ status: 'Creating', progress: '10%' }, { status: 'Creating', progress: '60%' }, { status: 'Available', progress: '100%' }] };
  /** Copies not yet Available, per source region, and the most ever seen at once. */
  readonly copiesRunning = new Map<string, Set<string>>();
  readonly maxCopiesRunning = new Map<string, number>();
  /** Each task and copy as the fake ran it: from the call that created it to the answer that reported its end (ms). */
  readonly runLog: RunLogEntry[] = [];

  /** A task or copy created now (ImportImage, ExportImage, CopyImage accepted). */
  started(action: RunLogEntry['action'], region: string, id: string): void {
    this.runLog.push({ action, region, id, start: Date.now() });
  }

  private ended(id: string): void {
    const e = this.runLog.find((r) => r.id === id && r.end === undefined);
    if (e) e.end = Date.now();
  }

  advanceTask(t: EcsTask): string {
    if (t.cancelled) {
      this.ended(t.id);
      return 'Cancelled';
    }
    const s = t.script[Math.min(t.step, t.script.length - 1)]!;
    t.step++;
    if (s === 'Finished' || s === 'Failed') this.ended(t.id);
    if (s === 'Finished') t.outputs?.forEach((o, i) => this.objects.set(o, this.exportDiskBytes[i] ?? this.exportBytes));
    if (s === 'Failed') t.failure ??= { ...this.taskFailure };
    return s;
  }

  advanceImage(img: EcsImage): { status: string; progress: string } {
    const s = img.script[Math.min(img.step, img.script.length - 1)]!;
    img.step++;
    if (s.status === 'Available' && img.copyOf) {
      this.copiesRunning.get(img.copyOf.region)?.delete(img.id);
      this.ended(img.id);
    }
    return s;
  }

  startCopy(img: EcsImage): void {
    const region = img.copyOf!.region;
    const running = this.copiesRunning.get(region) ?? new Set<string>();
    running.add(img.id);
    this.copiesRunning.set(region, running);
    this.maxCopiesRunning.set(region, Math.max(this.maxCopiesRunning.get(region) ?? 0, running.size));
    this.started('CopyImage', region, img.id);
  }

  copyInProgress(sourceImage: string): boolean {
    return [...this.images.values()].some((i) => i.copyOf?.image === sourceImage && this.copiesRunning.get(i.copyOf.region)?.has(i.id));
  }
}
