import { randomUUID } from 'node:crypto';
import { awsClients, type AwsClients, type AwsConnection } from '../aws/aws-clients.js';
import {
  cancelAwsExport,
  describeImageExport,
  describeInstanceExport,
  dryRunImageExport,
  startImageExport,
  startInstanceExport,
  type AwsImageExportParams,
  type AwsInstanceExportParams,
} from '../aws/aws-export.js';
import { ecsClients, type EcsClients, type EcsConnection } from '../ecs/ecs-clients.js';
import { dryRunEcsExport, startEcsExport, type EcsExportParams } from '../ecs/ecs-export.js';
import { cancelEcsTask, describeEcsTask, ecsTaskOperations } from '../ecs/ecs-tasks.js';
import { withOnRetry } from '../cloud-retry.js';
import { DEFAULT_POLL, type PollPolicy } from '../poll-task.js';
import type { CloudTaskCallbacks, CloudTaskStatus } from '../task-events.js';
import { followTask } from './follow-task.js';
import { startedTask } from './started-task.js';
import { defaultTaskSlots, taskSlot, withTaskSlot, type TaskSlotKind, type TaskSlots } from './task-slots.js';

/** EC2 ExportImage and CreateInstanceExportTask count against one export quota of the region. */
export const AWS_EXPORT: TaskSlotKind = { cloud: 'aws', task: 'export', cap: 'ec2_export_per_region' };
export const ECS_EXPORT: TaskSlotKind = { cloud: 'ecs', task: 'export', cap: 'ecs_export_per_region' };

/** Where an image or instance export wrote its object, and which task wrote it. */
export interface ExportedObject {
  taskId: string;
  bucket: string;
  /** The (system) disk's object. */
  key: string;
  /** ECS: one object per data disk of the image, in the order ExportImage reports them. */
  dataKeys?: string[] | undefined;
}

interface CommonExportParams {
  poll?: PollPolicy | undefined;
  /** Follow this task rather than calling ExportImage / CreateInstanceExportTask again (a job restarted mid-export). */
  resume?: { taskId: string } | undefined;
  /** Whether an abort with this reason cancels the task (default: every abort does). */
  cancelOnAbort?: ((reason: unknown) => boolean) | undefined;
  /**
   * AWS and ECS ExportImage: a DryRun call first, so a refusal stops before the task is created.
   * CreateInstanceExportTask has no DryRun parameter.
   */
  dryRunFirst?: boolean | undefined;
  /** Where the export task takes its slot (default: this process's, with the default caps). */
  slots?: TaskSlots | undefined;
}

/** `export` is an image export (ExportImage); `instance` an AWS instance export (CreateInstanceExportTask). */
export type ExportTaskParams =
  | ({ cloud: 'aws'; connection: AwsConnection; export: AwsImageExportParams } & CommonExportParams)
  | ({ cloud: 'aws'; connection: AwsConnection; instance: AwsInstanceExportParams } & CommonExportParams)
  | ({ cloud: 'ecs'; connection: EcsConnection; export: EcsExportParams } & CommonExportParams);

export interface ExportTaskCallbacks extends CloudTaskCallbacks {
  /** Awaited once the cloud names the task, before the first poll: the caller records it to resume. */
  onStarted?: ((taskId: string) => Promise<void> | void) | undefined;
}

/**
 * The cloud half of an export: AWS ExportImage or CreateInstanceExportTask, or ECS ExportImage, then the
 * task followed to its end (cancelled on the cloud when the signal aborts); the download is the caller's.
 */
export function runExportTask(params: ExportTaskParams, callbacks: ExportTaskCallbacks = {}, signal?: AbortSignal): Promise<ExportedObject> {
  if ('instance' in params) return awsInstanceExportTask(params, callbacks, signal);
  return params.cloud === 'aws' ? awsExportTask(params, callbacks, signal) : ecsExportTask(params, callbacks, signal);
}

async function awsExportTask(params: Extract<ExportTaskParams, { export: AwsImageExportParams }>, callbacks: ExportTaskCallbacks, signal?: AbortSignal): Promise<ExportedObject> {
  const clients = awsClients({ ...params.connection, retry: withOnRetry(params.connection.retry, callbacks) });
  // ClientToken: a retried ExportImage returns the same task instead of starting a second export.
  const p = { ...params.export, clientToken: params.export.clientToken ?? randomUUID() };
  const dryRun = params.dryRunFirst ? () => dryRunImageExport(clients, p, signal) : undefined;
  return withExportSlot({ slotKind: AWS_EXPORT, kind: 'aws-export-image', region: clients.region, params }, async () => {
    const taskId = await startedTask(params.resume?.taskId, () => startImageExport(clients, p, signal), callbacks.onStarted, dryRun);
    return followAwsExport(clients, taskId, 'aws-export-image', () => describeImageExport(clients, taskId, p, signal), params, callbacks, signal);
  }, callbacks, signal);
}

/**
 * CreateInstanceExportTask (OVA container) followed through DescribeExportTasks; CancelExportTask takes
 * its task id too. The call has no ClientToken (EC2 API reference), so none is sent. The OVA's bucket and
 * key are the ones DescribeExportTasks reports (ExportToS3Task.S3Key: `<prefix>export-i-….ova`).
 */
async function awsInstanceExportTask(params: Extract<ExportTaskParams, { instance: AwsInstanceExportParams }>, callbacks: ExportTaskCallbacks, signal?: AbortSignal): Promise<ExportedObject> {
  const clients = awsClients({ ...params.connection, retry: withOnRetry(params.connection.retry, callbacks) });
  const p = params.instance;
  return withExportSlot({ slotKind: AWS_EXPORT, kind: 'aws-export-instance', region: clients.region, params }, async () => {
    const taskId = await startedTask(params.resume?.taskId, () => startInstanceExport(clients, p, signal), callbacks.onStarted);
    return followAwsExport(clients, taskId, 'aws-export-instance', () => describeInstanceExport(clients, taskId, p, signal), params, callbacks, signal);
  }, callbacks, signal);
}

/** An export task from its start to its end holding a slot of its region; while it waits, its status says Queued. */
function withExportSlot<T>(
  task: { slotKind: TaskSlotKind; kind: CloudTaskStatus['kind']; region: string; params: CommonExportParams },
  fn: () => Promise<T>,
  callbacks: ExportTaskCallbacks,
  signal?: AbortSignal,
): Promise<T> {
  const slots = task.params.slots ?? defaultTaskSlots();
  const queued = (message: string) => callbacks.onStatus?.({ kind: task.kind, id: '', state: 'Queued', message });
  return withTaskSlot(slots, taskSlot(task.slotKind, task.region, slots.caps), fn, queued, signal);
}

/** Both AWS exports end the same way: polled to the end, CancelExportTask on abort, the object they wrote. */
async function followAwsExport(
  clients: AwsClients,
  taskId: string,
  kind: 'aws-export-image' | 'aws-export-instance',
  describe: () => ReturnType<typeof describeImageExport>,
  params: CommonExportParams,
  callbacks: ExportTaskCallbacks,
  signal?: AbortSignal,
): Promise<ExportedObject> {
  const done = await followTask({
    describe,
    cancel: () => cancelAwsExport(clients, taskId),
    cancelOnAbort: params.cancelOnAbort,
    cancelling: { kind, id: taskId },
    poll: params.poll ?? DEFAULT_POLL,
    callbacks,
    signal,
  });
  return { taskId, bucket: done.raw.bucket, key: done.raw.key };
}

/**
 * The object ECS ExportImage writes for the system disk: `<OSSPrefix>_<ImageId>_system.<ext>`, where the
 * default RAW export is packed as `.raw.tar.gz` (ECS "Export a custom image", exported file names).
 */
export function ecsExportKey(prefix: string, imageId: string, format: string): string {
  const ext = format === 'raw' ? 'raw.tar.gz' : format;
  return `${prefix}_${imageId}_system.${ext}`;
}

async function ecsExportTask(params: Extract<ExportTaskParams, { cloud: 'ecs' }>, callbacks: ExportTaskCallbacks, signal?: AbortSignal): Promise<ExportedObject> {
  const clients = ecsClients({ ...params.connection, retry: withOnRetry(params.connection.retry, callbacks) });
  const p = params.export;
  const dryRun = params.dryRunFirst ? () => dryRunEcsExport(clients, p, signal) : undefined;
  const taskId = await withExportSlot({ slotKind: ECS_EXPORT, kind: 'ecs-export-image', region: clients.region, params }, async () => {
    const taskId = await startedTask(params.resume?.taskId, () => startEcsExport(clients, p, signal), callbacks.onStarted, dryRun);
    await followTask({
      describe: () => describeEcsTask(clients, 'ecs-export-image', taskId, signal),
      cancel: () => cancelEcsTask(clients, taskId),
      cancelOnAbort: params.cancelOnAbort,
      cancelling: { kind: 'ecs-export-image', id: taskId },
      poll: params.poll ?? DEFAULT_POLL,
      callbacks,
      signal,
    });
    return taskId;
  }, callbacks, signal);
  return { taskId, bucket: p.ossBucket, ...(await ecsExportedKeys(clients, taskId, p, signal)) };
}

/**
 * An image with data disks exports one object per disk ("Export a custom image": the names holding
 * "system" are the system disk, those holding "data" a data disk). DescribeTaskAttribute names each
 * subtask's OSSObject; without any, the documented system-disk name is the one object.
 */
async function ecsExportedKeys(clients: EcsClients, taskId: string, p: EcsExportParams, signal?: AbortSignal): Promise<{ key: string; dataKeys?: string[] }> {
  const objects = (await ecsTaskOperations(clients, taskId, signal)).flatMap((o) => o.items.filter((i) => i.name === 'OSSObject' && i.value).map((i) => i.value));
  const system = objects.find((o) => /_system\./.test(o)) ?? ecsExportKey(p.ossPrefix, p.imageId, p.format);
  const dataKeys = objects.filter((o) => o !== system);
  return dataKeys.length ? { key: system, dataKeys } : { key: system };
}
