import type { AwsInstanceExportParams } from '../cloud/aws/aws-export.js';
import { isInstanceExport, type AwsInstanceExportOptions } from '../cloud/export-options.js';
import { pollEvery } from '../cloud/poll-task.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import type { ExportedObject, ExportTaskParams } from '../cloud/tasks/export-task.js';
import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { cancelTaskUnlessShutdown, jobTaskCallbacks } from './job-cloud-task.js';
import type { JobRecord } from './job-types.js';
import type { RunContext } from './run-context.js';

/** What the export reports back to the job service. */
export interface ExportHooks {
  signal: AbortSignal;
  onCloudTask(status: CloudTaskStatus): void;
  /** Resolves once the export task id is durable in the job record. */
  onExportStarted(taskId: string): Promise<void>;
}

/**
 * The cloud half of an export job. A job restarted mid-export follows the task its record names; a
 * daemon stopping (JOB_SHUTDOWN) leaves the task running, a cancel cancels it (CancelExportTask / CancelTask).
 * An AWS instance export runs CreateInstanceExportTask in place of ExportImage; the rest is the same.
 */
export async function exportForJob(job: JobRecord, ctx: RunContext, hooks: ExportHooks): Promise<ExportedObject> {
  const e = job.export!;
  // The SDKs load only when a job exports.
  const { runExportTask } = await import('../cloud/tasks/export-task.js');
  const connections = connectionsFromConfig(ctx.config);
  const common = {
    poll: pollEvery(ctx.config.cloud.poll_seconds),
    resume: job.exportTask ?? undefined,
    cancelOnAbort: cancelTaskUnlessShutdown,
  };
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
  return runExportTask(params, { ...jobTaskCallbacks(ctx, hooks.onCloudTask), onStarted: (taskId) => hooks.onExportStarted(taskId) }, hooks.signal);
}

/** The job's lower-case `format` is CreateInstanceExportTask's ExportToS3Task.DiskImageFormat (VMDK | VHD | RAW). */
function instanceParams(e: AwsInstanceExportOptions): AwsInstanceExportParams {
  const diskFormat = e.format.toUpperCase() as AwsInstanceExportParams['diskFormat'];
  return { instanceId: e.instanceId, diskFormat, targetEnvironment: e.targetEnvironment, bucket: e.bucket, prefix: e.prefix };
}
