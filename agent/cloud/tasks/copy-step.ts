import { randomUUID } from 'node:crypto';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { awsClients, type AwsConnection } from '../aws/aws-clients.js';
import { deregisterAwsImage, describeAwsImage, dryRunAwsCopy, startAwsCopy, type AwsCopyParams } from '../aws/aws-copy-share.js';
import { ecsClients, type EcsConnection } from '../ecs/ecs-clients.js';
import { cancelEcsCopy, dryRunEcsCopy, startEcsCopy, type EcsCopyParams } from '../ecs/ecs-copy-share.js';
import { describeEcsImageState } from '../ecs/ecs-tasks.js';
import { DEFAULT_POLL, type PollPolicy } from '../poll-task.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import { awsEncryptionRules, ecsEncryptionRules } from '../preflight/encryption-rules.js';
import { formatFinding, type Finding } from '../preflight/finding.js';
import { defaultTaskSlots, taskSlot, withTaskSlot, type TaskSlotKind, type TaskSlots } from './task-slots.js';
import { followTask } from './follow-task.js';
import { startedTask } from './started-task.js';
import { withOnRetry } from '../cloud-retry.js';

export interface CopyResult {
  destinationRegion: string;
  imageId: string;
  clientToken: string;
}

/** How a copy is run: every field optional, the defaults are those of a one-off library call. */
export interface CopyRun {
  poll?: PollPolicy | undefined;
  /** A CopyImage DryRun before the real call (both APIs document DryRun on CopyImage). */
  dryRun?: boolean | undefined;
  /** The copy a previous run started: followed, CopyImage is not called again. */
  resumeImageId?: string | undefined;
  /** Awaited once the cloud names the copy, before the first poll: the caller records it to resume. */
  onStarted?: ((imageId: string) => Promise<void> | void) | undefined;
  /** Whether an abort with this reason stops the copy on the cloud (default: every abort does). */
  cancelOnAbort?: ((reason: unknown) => boolean) | undefined;
  /** Where the copy takes its slot (default: this process's, with the default caps). */
  slots?: TaskSlots | undefined;
}

/** ECS CopyImage runs at most `ecs_copy_image_per_region` per source region (ECS: five). */
export const ECS_COPY: TaskSlotKind = { cloud: 'ecs', task: 'copy-image', cap: 'ecs_copy_image_per_region' };
/** EC2 CopyImage is a task of the destination region, where it is called. */
export const AWS_COPY: TaskSlotKind = { cloud: 'aws', task: 'copy-image', cap: 'ec2_copy_per_region' };

type Params<P> = Omit<P, 'clientToken'> & { clientToken?: string | undefined } & CopyRun;

function refuse(findings: Finding[]): void {
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) throw vmxError(CLOUD.COPY_RULE, `the copy would be refused:\n${errors.map(formatFinding).join('\n')}`);
}

/**
 * ECS CopyImage: a slot of its source region and the image's own (ECS runs one copy of an image at a time:
 * OperationDenied.ImageCopyConflict), one ClientToken for every retry of the request, followed until Available.
 */
export async function copyEcsImage(connection: EcsConnection, p: Params<EcsCopyParams>, callbacks: CloudTaskCallbacks = {}, signal?: AbortSignal): Promise<CopyResult> {
  refuse(ecsEncryptionRules(p));
  const clients = ecsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const params = { ...p, clientToken: p.clientToken ?? randomUUID() };
  const queued = (message: string) => callbacks.onStatus?.({ kind: 'ecs-copy', id: p.sourceImageId, state: 'Queued', message: `${message} (to ${p.destinationRegion})` });
  const slots = p.slots ?? defaultTaskSlots();
  const image = { key: `cloud:ecs:${p.sourceRegion}:copy-image:${p.sourceImageId}`, limit: 1, waiting: `waiting for the running copy of ${p.sourceImageId} to end (ECS copies an image once at a time)` };
  const copy = async () => {
    const dryRun = p.dryRun ? () => dryRunEcsCopy(clients, params, signal) : undefined;
    const id = await startedTask(p.resumeImageId, () => startEcsCopy(clients, params, signal), p.onStarted, dryRun);
    await followTask({
      describe: () => describeEcsImageState(clients, 'ecs-copy', p.destinationRegion, id, signal),
      cancel: () => cancelEcsCopy(clients, p.destinationRegion, id),
      cancelOnAbort: p.cancelOnAbort,
      cancelling: { kind: 'ecs-copy', id },
      poll: p.poll ?? DEFAULT_POLL,
      callbacks,
      signal,
    });
    return { destinationRegion: p.destinationRegion, imageId: id, clientToken: params.clientToken };
  };
  return withTaskSlot(slots, image, () => withTaskSlot(slots, taskSlot(ECS_COPY, p.sourceRegion, slots.caps), copy, queued, signal), queued, signal);
}

/** EC2 CopyImage in the destination region, followed through DescribeImages until available. */
export async function copyAwsImage(connection: AwsConnection, p: Params<AwsCopyParams>, callbacks: CloudTaskCallbacks = {}, signal?: AbortSignal): Promise<CopyResult> {
  refuse(awsEncryptionRules(p));
  const clients = awsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const params = { ...p, clientToken: p.clientToken ?? randomUUID() };
  const slots = p.slots ?? defaultTaskSlots();
  const queued = (message: string) => callbacks.onStatus?.({ kind: 'aws-copy', id: p.sourceImageId, state: 'Queued', message });
  return withTaskSlot(slots, taskSlot(AWS_COPY, p.destinationRegion, slots.caps), async () => {
    const dryRun = p.dryRun ? () => dryRunAwsCopy(clients, params, signal) : undefined;
    const id = await startedTask(p.resumeImageId, () => startAwsCopy(clients, params, signal), p.onStarted, dryRun);
    await followTask({
      describe: () => describeAwsImage(clients, p.destinationRegion, id, signal),
      cancel: () => deregisterAwsImage(clients, p.destinationRegion, id),
      cancelOnAbort: p.cancelOnAbort,
      cancelling: { kind: 'aws-copy', id },
      poll: p.poll ?? DEFAULT_POLL,
      callbacks,
      signal,
    });
    return { destinationRegion: p.destinationRegion, imageId: id, clientToken: params.clientToken };
  }, queued, signal);
}
