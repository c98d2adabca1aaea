import { CopyImageCommand, DeregisterImageCommand, DescribeImagesCommand, ModifyImageAttributeCommand } from '@aws-sdk/client-ec2';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import type { PolledState } from '../poll-task.js';
import { awsCall, ec2DryRun, type AwsClients } from './aws-clients.js';
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

function copyCommand(p: AwsCopyParams, dryRun: boolean): CopyImageCommand {
  return new CopyImageCommand({
    DryRun: dryRun,
    SourceImageId: p.sourceImageId,
    SourceRegion: p.sourceRegion,
    Name: p.name,
    Description: p.description,
    Encrypted: p.encrypted,
    KmsKeyId: p.kmsKeyId,
    ClientToken: p.clientToken,
  });
}

/** CopyImage is called in the destination region and names the source region. */
export async function startAwsCopy(clients: AwsClients, p: AwsCopyParams, signal?: AbortSignal): Promise<string> {
  const ec2 = clients.ec2In(p.destinationRegion);
  const out = await awsCall(clients, 'CopyImage', () => ec2.send(copyCommand(p, false), { abortSignal: signal }), signal);
  if (!out.ImageId) throw vmxError(CLOUD.BAD_RESPONSE, `CopyImage of ${p.sourceImageId} answered without an ImageId`);
  return out.ImageId;
}

/** CopyImage with DryRun: DryRunOperation means the copy would be accepted (EC2 API reference, CopyImage DryRun). */
export function dryRunAwsCopy(clients: AwsClients, p: AwsCopyParams, signal?: AbortSignal): Promise<void> {
  const ec2 = clients.ec2In(p.destinationRegion);
  return ec2DryRun(clients, 'CopyImage', () => ec2.send(copyCommand(p, true), { abortSignal: signal }), signal);
}

/** Stops a pending copy: EC2 User Guide, "Copy an AMI" — deregistering the destination AMI stops the copy. */
export async function deregisterAwsImage(clients: AwsClients, region: string, imageId: string): Promise<void> {
  const ec2 = clients.ec2In(region);
  await awsCall(clients, 'DeregisterImage', () => ec2.send(new DeregisterImageCommand({ ImageId: imageId })));
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

function launchPermissionCommand(imageId: string, accounts: string[], dryRun: boolean): ModifyImageAttributeCommand {
  return new ModifyImageAttributeCommand({ DryRun: dryRun, ImageId: imageId, LaunchPermission: { Add: accounts.map((UserId) => ({ UserId })) } });
}

/** EC2 launch permissions: ModifyImageAttribute LaunchPermission.Add with one UserId per account, in the image's region. */
export async function addLaunchPermissions(clients: AwsClients, region: string, imageId: string, accounts: string[], signal?: AbortSignal): Promise<void> {
  const ec2 = clients.ec2In(region);
  await awsCall(clients, 'ModifyImageAttribute', () => ec2.send(launchPermissionCommand(imageId, accounts, false), { abortSignal: signal }), signal);
}

/** ModifyImageAttribute with DryRun (EC2 API reference): DryRunOperation when the launch permissions would be added. */
export function dryRunLaunchPermissions(clients: AwsClients, region: string, imageId: string, accounts: string[], signal?: AbortSignal): Promise<void> {
  const ec2 = clients.ec2In(region);
  return ec2DryRun(clients, 'ModifyImageAttribute', () => ec2.send(launchPermissionCommand(imageId, accounts, true), { abortSignal: signal }), signal);
}
