import { awsClients, type AwsConnection } from '../aws/aws-clients.js';
import {
  cancelAwsExport,
  describeInstanceExport,
  startInstanceExport,
  type AwsImageExportParams,
  type AwsInstanceExportParams,
  type AwsExportLocation,
} from '../aws/aws-export.js';
import { s3ObjectReader } from '../aws/s3-object-reader.js';
import { DEFAULT_POLL, type PolledState } from '../poll-task.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import { DEFAULT_DOWNLOAD_PART, downloadObject } from './download.js';
import type { ExportCommon, ExportResult } from './export-types.js';
import { followTask } from './follow-task.js';
import { runExportTask } from './export-task.js';
import { withOnRetry } from '../cloud-retry.js';

export async function runAwsImageExport(
  connection: AwsConnection,
  p: AwsImageExportParams & ExportCommon,
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const done = await runExportTask({ cloud: 'aws', connection, export: p, poll: p.poll }, callbacks, signal);
  const reader = p.reader ?? s3ObjectReader(awsClients(connection), done.bucket);
  const dl = await downloadObject(reader, done.key, p.destination, { partSize: p.partSize ?? DEFAULT_DOWNLOAD_PART, signal, onBytes: p.onBytes });
  return { ...dl, taskId: done.taskId, bucket: done.bucket };
}

export async function runAwsInstanceExport(
  connection: AwsConnection,
  p: AwsInstanceExportParams & ExportCommon,
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const clients = awsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const taskId = await startInstanceExport(clients, p, signal);
  return followAndDownload(clients, p, callbacks, signal, { kind: 'aws-export-instance', id: taskId }, () => describeInstanceExport(clients, taskId, p, signal));
}

/** An instance export: poll the task (cancelled with it), then download the OVA it wrote. */
async function followAndDownload(
  clients: ReturnType<typeof awsClients>,
  p: ExportCommon,
  callbacks: CloudTaskCallbacks,
  signal: AbortSignal | undefined,
  task: { kind: 'aws-export-instance'; id: string },
  describe: () => Promise<PolledState<AwsExportLocation>>,
): Promise<ExportResult> {
  const done = await followTask({
    describe,
    cancel: () => cancelAwsExport(clients, task.id),
    cancelling: task,
    poll: p.poll ?? DEFAULT_POLL,
    callbacks,
    signal,
  });
  const reader = p.reader ?? s3ObjectReader(clients, done.raw.bucket);
  const dl = await downloadObject(reader, done.raw.key, p.destination, { partSize: p.partSize ?? DEFAULT_DOWNLOAD_PART, signal, onBytes: p.onBytes });
  return { ...dl, taskId: task.id, bucket: done.raw.bucket };
}
