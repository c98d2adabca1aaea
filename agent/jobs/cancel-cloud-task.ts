import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import { cloudOf } from '../cloud/upload-import/import-options.js';
import type { JobRecord } from './job-types.js';
import type { RunContext } from './run-context.js';

/**
 * Cancels the cloud task a job that is not running (queued after a restart) had started: a cancelled
 * job must not leave an import or export converting in the cloud. Running jobs cancel theirs as
 * their signal aborts (followTask).
 */
export async function cancelStartedCloudTask(job: JobRecord, ctx: RunContext): Promise<void> {
  if (job.result) return;
  const c = connectionsFromConfig(ctx.config);
  if (job.import && job.importTask) {
    return cloudOf(job.import.target) === 'aws' ? cancelAws(c.aws, job.importTask.taskId, 'import') : cancelEcs(c.ecs, job.importTask.taskId);
  }
  if (job.export && job.exportTask && !job.exported) {
    return job.export.cloud === 'aws' ? cancelAws(c.aws, job.exportTask.taskId, 'export') : cancelEcs(c.ecs, job.exportTask.taskId);
  }
}

async function cancelAws(connection: ReturnType<typeof connectionsFromConfig>['aws'], taskId: string, what: 'import' | 'export'): Promise<void> {
  if (!connection) return;
  const [{ awsClients }, { cancelAwsImport }, { cancelAwsExport }] = await Promise.all([
    import('../cloud/aws/aws-clients.js'),
    import('../cloud/aws/aws-import.js'),
    import('../cloud/aws/aws-export.js'),
  ]);
  const clients = awsClients(connection);
  await (what === 'import' ? cancelAwsImport(clients, taskId, 'vmxfer job cancelled') : cancelAwsExport(clients, taskId));
}

async function cancelEcs(connection: ReturnType<typeof connectionsFromConfig>['ecs'], taskId: string): Promise<void> {
  if (!connection) return;
  const [{ ecsClients }, { cancelEcsTask }] = await Promise.all([import('../cloud/ecs/ecs-clients.js'), import('../cloud/ecs/ecs-tasks.js')]);
  await cancelEcsTask(ecsClients(connection), taskId);
}
