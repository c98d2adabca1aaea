import type { ExportOptions } from '../cloud/export-options.js';
import type { StartedImport } from '../cloud/tasks/import-step.js';
import { cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import type { CloudConnections } from '../cloud/upload-import/import-step-params.js';
import { STEP } from './steps.js';

/** What a stopped run had started, as its journal's steps name it. */
export interface StartedWork {
  import?: ImportOptions | null | undefined;
  export?: ExportOptions | null | undefined;
  steps: Record<string, unknown>;
}

/**
 * Cancels the cloud task a run that is not running any more had started (the import, the copies, or the
 * export before its object exists): a cancelled job must not leave work running in the cloud. A running
 * workflow cancels its own as its signal aborts (followTask).
 */
export async function cancelStartedWork(w: StartedWork, c: CloudConnections): Promise<void> {
  const importTask = w.steps[STEP.importStarted] as StartedImport | undefined;
  const exportTask = w.steps[STEP.exportStarted] as { taskId: string } | undefined;
  if (w.import && w.steps[STEP.imported]) return cancelCopies(c, cloudOf(w.import.target), (w.steps[STEP.copiesStarted] as Record<string, string> | undefined) ?? {});
  if (w.import && importTask) {
    // An ECS import runs in `import.region` when it names one (ImportImage's RegionId), and CancelTask must go there.
    const ecs = c.ecs && w.import.region ? { ...c.ecs, region: w.import.region } : c.ecs;
    return cloudOf(w.import.target) === 'aws' ? cancelAws(c.aws, importTask.taskId, 'import') : cancelEcs(ecs, importTask.taskId);
  }
  if (w.export && exportTask && !w.steps[STEP.exported]) {
    return w.export.cloud === 'aws' ? cancelAws(c.aws, exportTask.taskId, 'export') : cancelEcs(c.ecs, exportTask.taskId);
  }
}

async function cancelAws(connection: CloudConnections['aws'], taskId: string, what: 'import' | 'export'): Promise<void> {
  if (!connection) return;
  const [{ awsClients }, { cancelAwsImport }, { cancelAwsExport }] = await Promise.all([
    import('../cloud/aws/aws-clients.js'),
    import('../cloud/aws/aws-import.js'),
    import('../cloud/aws/aws-export.js'),
  ]);
  const clients = awsClients(connection);
  await (what === 'import' ? cancelAwsImport(clients, taskId, 'vmxfer job cancelled') : cancelAwsExport(clients, taskId));
}

async function cancelEcs(connection: CloudConnections['ecs'], taskId: string): Promise<void> {
  if (!connection) return;
  const [{ ecsClients }, { cancelEcsTask }] = await Promise.all([import('../cloud/ecs/ecs-clients.js'), import('../cloud/ecs/ecs-tasks.js')]);
  await cancelEcsTask(ecsClients(connection), taskId);
}

/** Copies still running after the import: CancelCopyImage (ECS) or DeregisterImage of the pending AMI (EC2). */
async function cancelCopies(c: CloudConnections, cloud: 'aws' | 'ecs', started: Record<string, string>): Promise<void> {
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
