import { awsClients, type AwsConnection } from '../aws/aws-clients.js';
import {
  cancelAwsExport,
  describeImageExport,
  describeInstanceExport,
  startImageExport,
  startInstanceExport,
  type AwsImageExportParams,
  type AwsInstanceExportParams,
} from '../aws/aws-export.js';
import { s3ObjectReader, type ObjectReader } from '../aws/s3-object-reader.js';
import { ecsClients, type EcsConnection } from '../ecs/ecs-clients.js';
import { startEcsExport, type EcsExportParams } from '../ecs/ecs-export.js';
import { cancelEcsTask, describeEcsTask } from '../ecs/ecs-tasks.js';
import { DEFAULT_POLL, type PollPolicy } from '../poll-task.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import { DEFAULT_DOWNLOAD_PART, downloadObject, type DownloadResult } from './download.js';
import { followTask } from './follow-task.js';
import { withOnRetry } from './import-step.js';

export interface ExportCommon {
  /** Local destination of the downloaded object. */
  destination: string;
  poll?: PollPolicy | undefined;
  partSize?: number | undefined;
  /** Reads the bucket; an S3/OSS ObjectSink in production, any ObjectReader in tests. Defaults to S3 over the connection. */
  reader?: ObjectReader | undefined;
  onBytes?: ((n: number) => void) | undefined;
}

export interface ExportResult extends DownloadResult {
  taskId: string;
  bucket: string;
}

export async function runAwsImageExport(
  connection: AwsConnection,
  p: AwsImageExportParams & ExportCommon,
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const clients = awsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const taskId = await startImageExport(clients, p, signal);
  const done = await followTask({
    describe: () => describeImageExport(clients, taskId, p, signal),
    cancel: () => cancelAwsExport(clients, taskId),
    cancelling: { kind: 'aws-export-image', id: taskId },
    poll: p.poll ?? DEFAULT_POLL,
    callbacks,
    signal,
  });
  const reader = p.reader ?? s3ObjectReader(clients, done.raw.bucket);
  const dl = await downloadObject(reader, done.raw.key, p.destination, { partSize: p.partSize ?? DEFAULT_DOWNLOAD_PART, signal, onBytes: p.onBytes });
  return { ...dl, taskId, bucket: done.raw.bucket };
}

export async function runAwsInstanceExport(
  connection: AwsConnection,
  p: AwsInstanceExportParams & ExportCommon,
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const clients = awsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const taskId = await startInstanceExport(clients, p, signal);
  const done = await followTask({
    describe: () => describeInstanceExport(clients, taskId, p, signal),
    cancel: () => cancelAwsExport(clients, taskId),
    cancelling: { kind: 'aws-export-instance', id: taskId },
    poll: p.poll ?? DEFAULT_POLL,
    callbacks,
    signal,
  });
  const reader = p.reader ?? s3ObjectReader(clients, done.raw.bucket);
  const dl = await downloadObject(reader, done.raw.key, p.destination, { partSize: p.partSize ?? DEFAULT_DOWNLOAD_PART, signal, onBytes: p.onBytes });
  return { ...dl, taskId, bucket: done.raw.bucket };
}

/**
 * The object ECS ExportImage writes for the system disk: `<OSSPrefix>_<ImageId>_system.<ext>`, where the
 * default RAW export is packed as `.raw.tar.gz` (ECS "Export a custom image", exported file names).
 */
export function ecsExportKey(prefix: string, imageId: string, format: string): string {
  const ext = format === 'raw' ? 'raw.tar.gz' : format;
  return `${prefix}_${imageId}_system.${ext}`;
}

export async function runEcsExport(
  connection: EcsConnection,
  p: EcsExportParams & ExportCommon & { reader: ObjectReader },
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const clients = ecsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const taskId = await startEcsExport(clients, p, signal);
  await followTask({
    describe: () => describeEcsTask(clients, 'ecs-export-image', taskId, signal),
    cancel: () => cancelEcsTask(clients, taskId),
    cancelling: { kind: 'ecs-export-image', id: taskId },
    poll: p.poll ?? DEFAULT_POLL,
    callbacks,
    signal,
  });
  const key = ecsExportKey(p.ossPrefix, p.imageId, p.format);
  const dl = await downloadObject(p.reader, key, p.destination, { partSize: p.partSize ?? DEFAULT_DOWNLOAD_PART, signal, onBytes: p.onBytes });
  return { ...dl, taskId, bucket: p.ossBucket };
}
