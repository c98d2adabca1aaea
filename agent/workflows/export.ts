import type { AwsInstanceExportParams } from '../cloud/aws/aws-export.js';
import { exportedObjectUrl, isInstanceExport, type AwsInstanceExportOptions, type ExportOptions } from '../cloud/export-options.js';
import type { ExportedObject, ExportTaskParams } from '../cloud/tasks/export-task.js';
import type { DownloadResult } from '../transfer/download.js';
import { discardDisks, downloadDisks, exportDisks, type ExportDisk, type FinishedDisk } from '../cloud/tasks/export-disks.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { DownloadCheckpoint } from '../transfer/download-checkpoint.js';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import type { ProgressTracker } from '../core/progress.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import type { WorkflowPorts } from './ports.js';
import { STEP } from './steps.js';

/** An export: the cloud task, then the ranged download of each disk's object to `destination`. */
export interface ExportWorkflowRequest<R extends { objectSize: number }> {
  export: ExportOptions;
  destination: string;
  /** One disk's download from the bucket's `sink` (resumed from its checkpoint), converted or not: the front end's transfer settings. */
  download(disk: ExportDisk, progress: ProgressTracker, sink: ObjectSink): Promise<R>;
  /** The written file's SHA-256 when the download knows it (a conversion's output). */
  knownSha256?(result: R): string | null | undefined;
  /** Where the downloads keep their checkpoints, and whether they convert: what a final abort removes. */
  checkpoints: CheckpointStore<DownloadCheckpoint>;
  converting: boolean;
}

export interface ExportWorkflowResult<R> {
  exported: ExportedObject;
  /** The system disk first, then the data disks. */
  disks: FinishedDisk<R>[];
}

/**
 * The export task runs once (a restart follows the recorded task, or goes straight to the download);
 * each finished disk is recorded before the next starts, so a restart does not fetch it again.
 */
export async function exportWorkflow<R extends { objectSize: number }>(request: ExportWorkflowRequest<R>, ports: WorkflowPorts): Promise<ExportWorkflowResult<R>> {
  const exported = await ports.journal.once(STEP.exported, async () => {
    await ports.fence?.();
    return exportTask(request.export, ports);
  });
  ports.reporter.phase('downloading');
  // An ECS export's OSS bucket signs with the ECS connection's credential: one lookup of the chain per run.
  const signing = request.export.cloud === 'ecs' ? { credential: ports.cloud.connections.ecs?.credential } : {};
  const { sink } = await ports.sinks.open(exportedObjectUrl(request.export.cloud, exported.bucket, exported.key), signing);
  const all = exportDisks(request.export.cloud, exported, request.destination);
  const finished = () => ports.journal.read<FinishedDisk<R>[]>(STEP.disksDownloaded) ?? [];
  const disks = await downloadDisks({
    disks: all,
    finished: ports.journal.read<FinishedDisk<R>[]>(STEP.disksDownloaded),
    sink,
    progress: ports.progress,
    download: (disk, progress) => request.download(disk, progress, sink),
    knownSha256: request.knownSha256,
    onFinished: (disk) => ports.journal.note(STEP.disksDownloaded, [...finished().filter((d) => d.key !== disk.key), disk]),
    signal: ports.signal,
  }).catch(async (err: unknown) => {
    // An abort that ends the run for good (Ctrl-C, a job cancel) leaves no half set of disks that looks
    // complete; one the run comes back from (a daemon stopping) keeps them for the restart.
    if (ports.signal.aborted && (ports.cloud.cancelOnAbort?.(ports.signal.reason) ?? true)) await discardDisks(all, finished(), request.converting, request.checkpoints);
    throw err;
  });
  return { exported, disks };
}

/**
 * The cloud half: AWS ExportImage or CreateInstanceExportTask, or ECS ExportImage, followed to its end. A
 * restart follows the recorded task; an abort the cloud port does not cancel on (a daemon stopping) leaves it running.
 */
async function exportTask(e: ExportOptions, ports: WorkflowPorts): Promise<ExportedObject> {
  // The SDKs load only when an export runs.
  const { runExportTask } = await import('../cloud/tasks/export-task.js');
  const connections = ports.cloud.connections;
  const common = { poll: ports.cloud.poll, resume: ports.journal.read<{ taskId: string }>(STEP.exportStarted), cancelOnAbort: ports.cloud.cancelOnAbort };
  let params: ExportTaskParams;
  if (e.cloud === 'aws') {
    if (!connections.aws) throw vmxError(CORE.USAGE, 'an aws export needs cloud.aws_region (or stores.s3_region, AWS_REGION)');
    params = isInstanceExport(e)
      ? { cloud: 'aws', connection: connections.aws, instance: instanceParams(e), ...common }
      : { cloud: 'aws', connection: connections.aws, export: { imageId: e.imageId, format: e.format, bucket: e.bucket, prefix: e.prefix, roleName: e.roleName, clientToken: e.clientToken }, dryRunFirst: e.dryRun !== false, ...common };
  } else {
    if (!connections.ecs) throw vmxError(CORE.USAGE, 'an ecs export needs cloud.ecs_region (or stores.oss_region, ALIBABA_CLOUD_REGION_ID)');
    params = { cloud: 'ecs', connection: connections.ecs, export: { imageId: e.imageId, format: e.format, ossBucket: e.bucket, ossPrefix: e.prefix, roleName: e.roleName }, dryRunFirst: e.dryRun !== false, ...common };
  }
  const callbacks = { onStatus: (s: CloudTaskStatus) => ports.reporter.cloudTask(s), onRetry: (code: string) => ports.cloud.onRetry?.(code), onStarted: (taskId: string) => ports.journal.note(STEP.exportStarted, { taskId }) };
  return runExportTask(params, callbacks, ports.signal);
}

/** The job's lower-case `format` is CreateInstanceExportTask's ExportToS3Task.DiskImageFormat (VMDK | VHD | RAW). */
function instanceParams(e: AwsInstanceExportOptions): AwsInstanceExportParams {
  const diskFormat = e.format.toUpperCase() as AwsInstanceExportParams['diskFormat'];
  return { instanceId: e.instanceId, diskFormat, targetEnvironment: e.targetEnvironment, bucket: e.bucket, prefix: e.prefix };
}

export interface ExportResult extends DownloadResult {
  taskId: string;
  bucket: string;
  key: string;
  /** SHA-256 of the file written to `destination`. */
  sha256: string;
  /** ECS images with data disks: each data disk's object, where it was written (dataDiskPath) and that file's SHA-256. */
  dataDisks?: Array<DownloadResult & { key: string; sha256: string }> | undefined;
}

/** What `vmxfer export` reports: the system disk's download and its file's SHA-256, the task and its object, each data disk. */
export function exportResult(done: ExportedObject, disks: readonly FinishedDisk<DownloadResult>[]): ExportResult {
  const [system, ...data] = disks;
  const dataDisks = data.map((d) => ({ ...d.result, key: d.key, sha256: d.sha256 }));
  return { ...system!.result, sha256: system!.sha256, taskId: done.taskId, bucket: done.bucket, key: done.key, ...(dataDisks.length ? { dataDisks } : {}) };
}
