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
import { CopyLimiter } from './copy-limiter.js';
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
}

type Params<P> = Omit<P, 'clientToken'> & { clientToken?: string | undefined } & CopyRun;

function refuse(findings: Finding[]): void {
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) throw vmxError(CLOUD.COPY_RULE, `the copy would be refused:\n${errors.map(formatFinding).join('\n')}`);
}

/** ECS CopyImage: admitted by the limiter, one ClientToken for every retry of the request, followed until Available. */
export async function copyEcsImage(connection: EcsConnection, limiter: CopyLimiter, p: Params<EcsCopyParams>, callbacks: CloudTaskCallbacks = {}, signal?: AbortSignal): Promise<CopyResult> {
  refuse(ecsEncryptionRules(p));
  const clients = ecsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const params = { ...p, clientToken: p.clientToken ?? randomUUID() };
  const queuedStatus = () => callbacks.onStatus?.({ kind: 'ecs-copy', id: p.sourceImageId, state: 'Queued', message: `waiting for a copy slot in ${p.sourceRegion} (to ${p.destinationRegion})` });
  return limiter.run(p.sourceRegion, p.sourceImageId, async () => {
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
  }, queuedStatus, signal);
}

/** EC2 CopyImage in the destination region, followed through DescribeImages until available. */
export async function copyAwsImage(connection: AwsConnection, p: Params<AwsCopyParams>, callbacks: CloudTaskCallbacks = {}, signal?: AbortSignal): Promise<CopyResult> {
  refuse(awsEncryptionRules(p));
  const clients = awsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const params = { ...p, clientToken: p.clientToken ?? randomUUID() };
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
}
