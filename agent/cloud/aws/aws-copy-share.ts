import { CopyImageCommand, DescribeImagesCommand, ModifyImageAttributeCommand } from '@aws-sdk/client-ec2';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import type { PolledState } from '../poll-task.js';
import { awsCall, type AwsClients } from './aws-clients.js';
import { imageVerdict } from './aws-task-state.js';

export interface AwsCopyParams {
  sourceImageId: string;
  sourceRegion: string;
  destinationRegion: string;
  name: string;
  description?: string | undefined;
  encrypted?: boolean | undefined;
  kmsKeyId?: string | undefined;
  /** Idempotency token (CopyImage ClientToken): a retry with the same token returns the same AMI. */
  clientToken: string;
}

/** CopyImage is called in the destination region and names the source region. */
export async function startAwsCopy(clients: AwsClients, p: AwsCopyParams, signal?: AbortSignal): Promise<string> {
  const ec2 = clients.ec2In(p.destinationRegion);
  const out = await awsCall(clients, 'CopyImage', () => ec2.send(new CopyImageCommand({
    SourceImageId: p.sourceImageId,
    SourceRegion: p.sourceRegion,
    Name: p.name,
    Description: p.description,
    Encrypted: p.encrypted,
    KmsKeyId: p.kmsKeyId,
    ClientToken: p.clientToken,
  }), { abortSignal: signal }), signal);
  if (!out.ImageId) throw vmxError(CLOUD.BAD_RESPONSE, `CopyImage of ${p.sourceImageId} answered without an ImageId`);
  return out.ImageId;
}

export async function describeAwsImage(clients: AwsClients, region: string, imageId: string, signal?: AbortSignal): Promise<PolledState<{ imageId: string }>> {
  const ec2 = clients.ec2In(region);
  const out = await awsCall(clients, 'DescribeImages', () => ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }), { abortSignal: signal }), signal);
  const img = out.Images?.find((i) => i.ImageId === imageId);
  const state = img?.State ?? 'pending';
  return {
    status: { kind: 'aws-copy', id: imageId, state, message: img?.StateReason?.Message ?? '' },
    verdict: imageVerdict(state),
    raw: { imageId },
  };
}

/** EC2 launch permissions: ModifyImageAttribute LaunchPermission.Add with one UserId per account. */
export async function addLaunchPermissions(clients: AwsClients, imageId: string, accounts: string[], signal?: AbortSignal): Promise<void> {
  await awsCall(clients, 'ModifyImageAttribute', () => clients.ec2.send(new ModifyImageAttributeCommand({
    ImageId: imageId,
    LaunchPermission: { Add: accounts.map((UserId) => ({ UserId })) },
  }), { abortSignal: signal }), signal);
}
