import { randomUUID } from 'node:crypto';
import { vmxError } from '../core/errors.js';
import { CLOUD } from '../cloud/error-codes.js';
import { awsClients, type AwsConnection } from '../cloud/aws/aws-clients.js';
import { defaultTaskSlots, taskSlot, withTaskSlot, type TaskSlots } from '../cloud/tasks/task-slots.js';
import { AWS_IMPORT } from '../cloud/tasks/import-step.js';
import { cancelAwsImport, describeAwsImport, startSnapshotImage, type AwsImportParams } from '../cloud/aws/aws-import.js';
import { followTask } from '../cloud/tasks/follow-task.js';
import type { ImportStepResult } from '../cloud/tasks/import-step.js';
import type { ImportOptions } from '../cloud/upload-import/import-options.js';
import { formatFinding, hasErrors } from '../cloud/preflight/finding.js';
import { awsParameterRules } from '../cloud/preflight/parameter-rules.js';
import type { PollPolicy } from '../cloud/poll-task.js';
import type { CloudTaskCallbacks } from '../cloud/task-events.js';

/** The ImportImage parameters of `--import aws-image` (the same the aws-snapshot registration sends). */
export function snapshotImageParams(o: ImportOptions): AwsImportParams {
  return {
    target: 'aws-image', disks: [], description: o.description, licenseType: o.licenseType, usageOperation: o.usageOperation,
    bootMode: o.bootMode, architecture: o.architecture, platform: o.platform, encrypted: o.encrypted, kmsKeyId: o.kmsKeyId,
    roleName: o.roleName, tags: o.tags, clientToken: o.clientToken ?? randomUUID(),
  };
}

/** Refused before the first block when ImportImage would refuse the parameters (the import step's own rules). */
export function checkSnapshotImage(o: ImportOptions): void {
  // With a boot mode or platform the snapshot-registration rules apply (uefi needs a platform), as for aws-snapshot.
  const p = snapshotImageParams(o);
  const findings = awsParameterRules({ ...p, target: p.bootMode !== undefined || p.platform !== undefined ? 'aws-snapshot' : 'aws-image' });
  if (hasErrors(findings)) throw vmxError(CLOUD.PREFLIGHT_FAILED, `the import parameters would be refused:\n${findings.filter((f) => f.severity === 'error').map(formatFinding).join('\n')}`);
}

/**
 * ImportImage with the EBS snapshot as its disk container (ImageDiskContainer.SnapshotId), as an
 * aws-snapshot import registers its snapshots: --boot-mode, --platform, --architecture and the other
 * image flags go to it; the task is followed to its AMI (cancelled on Ctrl-C).
 */
export async function importSnapshotImage(snapshotId: string, o: ImportOptions, connection: AwsConnection, poll: PollPolicy, callbacks: CloudTaskCallbacks, signal: AbortSignal, slots: TaskSlots = defaultTaskSlots()): Promise<ImportStepResult> {
  const clients = awsClients(connection);
  const p = snapshotImageParams(o);
  const queued = (message: string) => callbacks.onStatus?.({ kind: 'aws-image', id: '', state: 'Queued', message });
  const { taskId, done } = await withTaskSlot(slots, taskSlot(AWS_IMPORT, clients.region, slots.caps), async () => {
    const taskId = await startSnapshotImage(clients, p, [snapshotId], o.dryRun !== false, signal);
    const done = await followTask({
      describe: () => describeAwsImport(clients, 'aws-image', taskId, signal),
      cancel: () => cancelAwsImport(clients, taskId, 'vmxfer upload cancelled'),
      cancelling: { kind: 'aws-image', id: taskId },
      poll,
      callbacks,
      signal,
    });
    return { taskId, done };
  }, queued, signal);
  if (!done.raw.resourceId) throw vmxError(CLOUD.BAD_RESPONSE, `${taskId} completed without naming the AMI`);
  return { target: 'aws-image', taskIds: [taskId], resourceIds: [done.raw.resourceId], final: [done.status] };
}
