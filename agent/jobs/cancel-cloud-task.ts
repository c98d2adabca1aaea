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
  if (job.import && job.imported) return cancelCopies(c, cloudOf(job.import.target), job.copiesStarted ?? {});
  if (job.import && job.importTask) {
    // An ECS import runs in `import.region` when it names one (ImportImage's RegionId), and CancelTask must go there.
    const ecs = c.ecs && job.import.region ? { ...c.ecs, region: job.import.region } : c.ecs;
    return cloudOf(job.import.target) === 'aws' ? cancelAws(c.aws, job.importTask.taskId, 'import') : cancelEcs(ecs, job.importTask.taskId);
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

/** Copies still running after the import: CancelCopyImage (ECS) or DeregisterImage of the pending AMI (EC2). */
async function cancelCopies(c: ReturnType<typeof connectionsFromConfig>, cloud: 'aws' | 'ecs', started: Record<string, string>): Promise<void> {
  const copies = Object.entries(started);
  if (!copies.length) return;
  if (cloud === 'aws' && c.aws) {
    const [{ awsClients }, { deregisterAwsImage, describeAwsImage }] = await Promise.all([import('../cloud/aws/aws-clients.js'), import('../cloud/aws/aws-copy-share.js')]);
    const clients = awsClients(c.aws);
    // A copy that already finished is a usable AMI: only pending ones are stopped.
    const stopPending = async (region: string, id: string) => {
      if ((await describeAwsImage(clients, region, id)).verdict === 'running') await deregisterAwsImage(clients, region, id);
    };
    await Promise.allSettled(copies.map(([region, id]) => stopPending(region, id)));
  }
  if (cloud === 'ecs' && c.ecs) {
    const [{ ecsClients }, { cancelEcsCopy }] = await Promise.all([import('../cloud/ecs/ecs-clients.js'), import('../cloud/ecs/ecs-copy-share.js')]);
    const clients = ecsClients(c.ecs);
    await Promise.allSettled(copies.map(([region, id]) => cancelEcsCopy(clients, region, id)));
  }
}
