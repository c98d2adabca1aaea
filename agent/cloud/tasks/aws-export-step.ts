import { awsClients, type AwsClients, type AwsConnection } from '../aws/aws-clients.js';
import type { AwsImageExportParams, AwsInstanceExportParams } from '../aws/aws-export.js';
import { S3Sink } from '../../sinks/s3/s3-sink.js';
import { retryingSink } from '../../sinks/retrying-sink.js';
import type { ObjectSink } from '../../sinks/object-sink.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import type { ExportCommon, ExportResult } from './export-types.js';
import { runExportTask } from './export-task.js';
import { downloadExported } from './export-download.js';

/** The export bucket as an ObjectSink: the caller's, or S3 over the connection's own S3 client. */
function bucketSink(clients: AwsClients, bucket: string, p: ExportCommon): ObjectSink {
  return p.sink ?? retryingSink(new S3Sink({ bucket }, clients.s3));
}

/** ExportImage, the task followed (CancelExportTask on abort), then `P + export-ami-….FORMAT` downloaded. */
export async function runAwsImageExport(
  connection: AwsConnection,
  p: AwsImageExportParams & ExportCommon,
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const done = await runExportTask({ cloud: 'aws', connection, export: p, poll: p.poll, dryRunFirst: p.dryRunFirst }, callbacks, signal);
  return downloadExported('aws', done, bucketSink(awsClients(connection), done.bucket, p), p, signal);
}

/** CreateInstanceExportTask (OVA container), the task followed (CancelExportTask on abort), then `P + export-i-….ova` downloaded. */
export async function runAwsInstanceExport(
  connection: AwsConnection,
  p: AwsInstanceExportParams & ExportCommon,
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const done = await runExportTask({ cloud: 'aws', connection, instance: p, poll: p.poll }, callbacks, signal);
  return downloadExported('aws', done, bucketSink(awsClients(connection), done.bucket, p), p, signal);
}
