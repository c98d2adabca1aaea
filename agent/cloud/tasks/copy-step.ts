import { randomUUID } from 'node:crypto';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { awsClients, type AwsConnection } from '../aws/aws-clients.js';
import { describeAwsImage, startAwsCopy, type AwsCopyParams } from '../aws/aws-copy-share.js';
import { ecsClients, type EcsConnection } from '../ecs/ecs-clients.js';
import { startEcsCopy, type EcsCopyParams } from '../ecs/ecs-copy-share.js';
import { describeEcsImageState } from '../ecs/ecs-tasks.js';
import { DEFAULT_POLL, type PollPolicy } from '../poll-task.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import { awsEncryptionRules, ecsEncryptionRules } from '../preflight/encryption-rules.js';
import { formatFinding, type Finding } from '../preflight/finding.js';
import { CopyLimiter } from './copy-limiter.js';
import { followTask } from './follow-task.js';
import { withOnRetry } from '../cloud-retry.js';

export interface CopyResult {
  destinationRegion: string;
  imageId: string;
  clientToken: string;
}

function refuse(findings: Finding[]): void {
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) throw vmxError(CLOUD.COPY_RULE, `the copy would be refused:\n${errors.map(formatFinding).join('\n')}`);
}

/** ECS CopyImage: admitted by the limiter, one ClientToken for every retry of the request, followed until Available. */
export async function copyEcsImage(
  connection: EcsConnection,
  limiter: CopyLimiter,
  p: Omit<EcsCopyParams, 'clientToken'> & { clientToken?: string | undefined; poll?: PollPolicy | undefined },
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<CopyResult> {
  refuse(ecsEncryptionRules(p));
  const clients = ecsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const clientToken = p.clientToken ?? randomUUID();
  const queuedStatus = () => callbacks.onStatus?.({ kind: 'ecs-copy', id: p.sourceImageId, state: 'Queued', message: `waiting for a copy slot in ${p.sourceRegion}` });
  return limiter.run(p.sourceRegion, p.sourceImageId, async () => {
    const imageId = await startEcsCopy(clients, { ...p, clientToken }, signal);
    await followTask({
      describe: () => describeEcsImageState(clients, 'ecs-copy', p.destinationRegion, imageId, signal),
      cancelling: { kind: 'ecs-copy', id: imageId },
      poll: p.poll ?? DEFAULT_POLL,
      callbacks,
      signal,
    });
    return { destinationRegion: p.destinationRegion, imageId, clientToken };
  }, queuedStatus, signal);
}

/** EC2 CopyImage in the destination region, followed through DescribeImages until available. */
export async function copyAwsImage(
  connection: AwsConnection,
  p: Omit<AwsCopyParams, 'clientToken'> & { clientToken?: string | undefined; poll?: PollPolicy | undefined },
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<CopyResult> {
  refuse(awsEncryptionRules(p));
  const clients = awsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const clientToken = p.clientToken ?? randomUUID();
  const imageId = await startAwsCopy(clients, { ...p, clientToken }, signal);
  await followTask({
    describe: () => describeAwsImage(clients, p.destinationRegion, imageId, signal),
    cancelling: { kind: 'aws-copy', id: imageId },
    poll: p.poll ?? DEFAULT_POLL,
    callbacks,
    signal,
  });
  return { destinationRegion: p.destinationRegion, imageId, clientToken };
}
