import EcsSdk from '@alicloud/ecs20140526';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import type { PolledState } from '../poll-task.js';
import type { CloudTaskKind } from '../task-events.js';
import { ecsCall, type EcsClients } from './ecs-clients.js';
import { ecsImageVerdict, ecsPercent, ecsTaskVerdict } from './ecs-task-state.js';

/**
 * DescribeTasks by TaskIds: the task's TaskStatus decides, its TaskAction names it. A Failed task's
 * message is the cloud's reason, read from DescribeTaskAttribute (ErrorCode: ErrorMsg per subtask).
 */
export async function describeEcsTask(clients: EcsClients, kind: CloudTaskKind, taskId: string, signal?: AbortSignal): Promise<PolledState<{ taskId: string }>> {
  const ecs = clients.ecsIn(clients.region);
  const out = await ecsCall(clients, 'DescribeTasks', () => ecs.describeTasksWithOptions(new EcsSdk.DescribeTasksRequest({ regionId: clients.region, taskIds: taskId }), clients.runtime), signal);
  const t = out.body?.taskSet?.task?.find((x) => x.taskId === taskId);
  if (!t?.taskStatus) throw vmxError(CLOUD.BAD_RESPONSE, `DescribeTasks did not list ${taskId} with a TaskStatus`);
  const reason = t.taskStatus === 'Failed' ? failureReason(await ecsTaskOperations(clients, taskId, signal)) : '';
  return { status: { kind, id: taskId, state: t.taskStatus, message: reason || (t.taskAction ?? '') }, verdict: ecsTaskVerdict(t.taskStatus), raw: { taskId } };
}

/** One subtask of DescribeTaskAttribute's OperationProgressSet. */
export interface EcsTaskOperation {
  status: string;
  errorCode: string;
  errorMsg: string;
  /** RelatedItemSet: Name → Value pairs (an ExportImage subtask names its OSSObject). */
  items: Array<{ name: string; value: string }>;
}

/** DescribeTaskAttribute (ImportImage, ExportImage and ModifyDiskSpec tasks): OperationProgressSet. */
export async function ecsTaskOperations(clients: EcsClients, taskId: string, signal?: AbortSignal): Promise<EcsTaskOperation[]> {
  const ecs = clients.ecsIn(clients.region);
  const out = await ecsCall(clients, 'DescribeTaskAttribute', () => ecs.describeTaskAttributeWithOptions(new EcsSdk.DescribeTaskAttributeRequest({ regionId: clients.region, taskId }), clients.runtime), signal);
  return (out.body?.operationProgressSet?.operationProgress ?? []).map((o) => ({
    status: o.operationStatus ?? '',
    errorCode: o.errorCode ?? '',
    errorMsg: o.errorMsg ?? '',
    items: (o.relatedItemSet?.relatedItem ?? []).map((i) => ({ name: i.name ?? '', value: i.value ?? '' })),
  }));
}

function failureReason(ops: EcsTaskOperation[]): string {
  return ops.filter((o) => o.errorCode || o.errorMsg).map((o) => [o.errorCode, o.errorMsg].filter(Boolean).join(': ')).join('; ');
}

export interface EcsImageFacts {
  imageId: string;
  status: string | undefined;
  progress: string | undefined;
  /** DiskDeviceMappings: Type system|data, Size in GiB. */
  disks: Array<{ type: string; sizeGiB: number }>;
  encrypted: boolean;
}

export async function ecsImage(clients: EcsClients, region: string, imageId: string, signal?: AbortSignal): Promise<EcsImageFacts | undefined> {
  const ecs = clients.ecsIn(region);
  const out = await ecsCall(clients, 'DescribeImages', () => ecs.describeImagesWithOptions(new EcsSdk.DescribeImagesRequest({ regionId: region, imageId, showExpired: true }), clients.runtime), signal);
  const img = out.body?.images?.image?.find((i) => i.imageId === imageId);
  if (!img) return undefined;
  const disks = (img.diskDeviceMappings?.diskDeviceMapping ?? []).map((d) => ({ type: d.type ?? 'data', sizeGiB: Number(d.size ?? 0), encrypted: d.encrypted }));
  return { imageId, status: img.status, progress: img.progress, disks, encrypted: disks.some((d) => d.encrypted === true) };
}

/** A copy (or an import) followed through DescribeImages in its region: Creating/Waiting → Available. */
export async function describeEcsImageState(clients: EcsClients, kind: CloudTaskKind, region: string, imageId: string, signal?: AbortSignal): Promise<PolledState<{ imageId: string }>> {
  const img = await ecsImage(clients, region, imageId, signal);
  const state = img?.status ?? 'Waiting';
  return { status: { kind, id: imageId, state, message: '', progress: ecsPercent(img?.progress) }, verdict: ecsImageVerdict(state), raw: { imageId } };
}

/** CancelTask: ImportImage and ExportImage tasks are cancellable while Waiting or Processing. */
export async function cancelEcsTask(clients: EcsClients, taskId: string): Promise<void> {
  const ecs = clients.ecsIn(clients.region);
  await ecsCall(clients, 'CancelTask', () => ecs.cancelTaskWithOptions(new EcsSdk.CancelTaskRequest({ regionId: clients.region, taskId }), clients.runtime));
}
