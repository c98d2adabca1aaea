import {
  CancelExportTaskCommand,
  CreateInstanceExportTaskCommand,
  DescribeExportImageTasksCommand,
  DescribeExportTasksCommand,
  ExportImageCommand,
} from '@aws-sdk/client-ec2';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import type { PolledState } from '../poll-task.js';
import { awsCall, ec2DryRun, type AwsClients } from './aws-clients.js';
import { exportVerdict, percent } from './aws-task-state.js';

import type { AwsExportFormat, AWS_INSTANCE_DISK_FORMATS, AWS_TARGET_ENVIRONMENTS } from '../export-formats.js';

export { AWS_EXPORT_FORMATS, type AwsExportFormat } from '../export-formats.js';

export interface AwsImageExportParams {
  imageId: string;
  format: AwsExportFormat;
  bucket: string;
  prefix: string;
  roleName?: string | undefined;
  description?: string | undefined;
  clientToken?: string | undefined;
}

export interface AwsExportLocation {
  bucket: string;
  /** The object the export writes: prefix + export task id + "." + format (ExportTaskS3Location / ExportToS3Task). */
  key: string;
}

function exportImageCommand(p: AwsImageExportParams, dryRun: boolean): ExportImageCommand {
  return new ExportImageCommand({
    DryRun: dryRun,
    ImageId: p.imageId,
    DiskImageFormat: p.format.toUpperCase() as 'VMDK',
    S3ExportLocation: { S3Bucket: p.bucket, S3Prefix: p.prefix },
    RoleName: p.roleName,
    Description: p.description,
    ClientToken: p.clientToken,
  });
}

/** ExportImage with DryRun=true (EC2 API reference, ExportImage "DryRun"): resolves on DryRunOperation. */
export function dryRunImageExport(clients: AwsClients, p: AwsImageExportParams, signal?: AbortSignal): Promise<void> {
  return ec2DryRun(clients, 'ExportImage', () => clients.ec2.send(exportImageCommand(p, true), { abortSignal: signal }), signal);
}

/** ExportImage: DiskImageFormat VMDK | RAW | VHD into S3ExportLocation {S3Bucket, S3Prefix}. */
export async function startImageExport(clients: AwsClients, p: AwsImageExportParams, signal?: AbortSignal): Promise<string> {
  const out = await awsCall(clients, 'ExportImage', () => clients.ec2.send(exportImageCommand(p, false), { abortSignal: signal }), signal);
  if (!out.ExportImageTaskId) throw vmxError(CLOUD.BAD_RESPONSE, `ExportImage for ${p.imageId} answered without an ExportImageTaskId`);
  return out.ExportImageTaskId;
}

/** The documented object name: `<prefix>export-ami-<id>.<format>` (ExportImage, S3ExportLocation). */
export function imageExportKey(prefix: string, taskId: string, format: string): string {
  return `${prefix}${taskId}.${format.toLowerCase()}`;
}

export async function describeImageExport(clients: AwsClients, taskId: string, p: Pick<AwsImageExportParams, 'bucket' | 'prefix' | 'format'>, signal?: AbortSignal): Promise<PolledState<AwsExportLocation>> {
  const out = await awsCall(clients, 'DescribeExportImageTasks', () => clients.ec2.send(new DescribeExportImageTasksCommand({ ExportImageTaskIds: [taskId] }), { abortSignal: signal }), signal);
  const t = out.ExportImageTasks?.find((x) => x.ExportImageTaskId === taskId);
  if (!t?.Status) throw vmxError(CLOUD.BAD_RESPONSE, `DescribeExportImageTasks did not list ${taskId} with a status`);
  const bucket = t.S3ExportLocation?.S3Bucket ?? p.bucket;
  const prefix = t.S3ExportLocation?.S3Prefix ?? p.prefix;
  return {
    status: { kind: 'aws-export-image', id: taskId, state: t.Status, message: t.StatusMessage ?? '', progress: percent(t.Progress) },
    verdict: exportVerdict(t.Status),
    raw: { bucket, key: imageExportKey(prefix, taskId, p.format) },
  };
}

export interface AwsInstanceExportParams {
  instanceId: string;
  /** VMDK | VHD | RAW (ExportToS3TaskSpecification.DiskImageFormat). */
  diskFormat: (typeof AWS_INSTANCE_DISK_FORMATS)[number];
  /** citrix | vmware | microsoft (CreateInstanceExportTask TargetEnvironment). */
  targetEnvironment: (typeof AWS_TARGET_ENVIRONMENTS)[number];
  bucket: string;
  prefix: string;
  description?: string | undefined;
}

/** CreateInstanceExportTask with ContainerFormat "ova": the OVA lands at prefix + task id + ".ova". */
export async function startInstanceExport(clients: AwsClients, p: AwsInstanceExportParams, signal?: AbortSignal): Promise<string> {
  const out = await awsCall(clients, 'CreateInstanceExportTask', () => clients.ec2.send(new CreateInstanceExportTaskCommand({
    InstanceId: p.instanceId,
    TargetEnvironment: p.targetEnvironment,
    Description: p.description,
    ExportToS3Task: { ContainerFormat: 'ova', DiskImageFormat: p.diskFormat, S3Bucket: p.bucket, S3Prefix: p.prefix },
  }), { abortSignal: signal }), signal);
  const id = out.ExportTask?.ExportTaskId;
  if (!id) throw vmxError(CLOUD.BAD_RESPONSE, `CreateInstanceExportTask for ${p.instanceId} answered without an ExportTaskId`);
  return id;
}

export async function describeInstanceExport(clients: AwsClients, taskId: string, p: Pick<AwsInstanceExportParams, 'bucket' | 'prefix'>, signal?: AbortSignal): Promise<PolledState<AwsExportLocation>> {
  const out = await awsCall(clients, 'DescribeExportTasks', () => clients.ec2.send(new DescribeExportTasksCommand({ ExportTaskIds: [taskId] }), { abortSignal: signal }), signal);
  const t = out.ExportTasks?.find((x) => x.ExportTaskId === taskId);
  if (!t?.State) throw vmxError(CLOUD.BAD_RESPONSE, `DescribeExportTasks did not list ${taskId} with a state`);
  const s3 = t.ExportToS3Task;
  const key = s3?.S3Key ?? `${p.prefix}${taskId}.ova`;
  return {
    status: { kind: 'aws-export-instance', id: taskId, state: t.State, message: t.StatusMessage ?? '' },
    verdict: exportVerdict(t.State),
    raw: { bucket: s3?.S3Bucket ?? p.bucket, key },
  };
}

/** CancelExportTask cancels both image and instance exports (it takes either task id). */
export async function cancelAwsExport(clients: AwsClients, taskId: string): Promise<void> {
  await awsCall(clients, 'CancelExportTask', () => clients.ec2.send(new CancelExportTaskCommand({ ExportTaskId: taskId })));
}
