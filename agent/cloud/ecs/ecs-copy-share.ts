import EcsSdk from '@alicloud/ecs20140526';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { ecsCall, ecsDryRun, type EcsClients } from './ecs-clients.js';

export interface EcsCopyParams {
  sourceImageId: string;
  sourceRegion: string;
  destinationRegion: string;
  destinationImageName?: string | undefined;
  destinationDescription?: string | undefined;
  encrypted?: boolean | undefined;
  kmsKeyId?: string | undefined;
  encryptAlgorithm?: string | undefined;
  /** ASCII, at most 64 characters (ECS "How to ensure idempotence"). */
  clientToken: string;
}

function copyRequest(p: EcsCopyParams, dryRun: boolean): EcsSdk.CopyImageRequest {
  return new EcsSdk.CopyImageRequest({
    regionId: p.sourceRegion,
    imageId: p.sourceImageId,
    destinationRegionId: p.destinationRegion,
    destinationImageName: p.destinationImageName,
    destinationDescription: p.destinationDescription,
    encrypted: p.encrypted,
    KMSKeyId: p.kmsKeyId,
    encryptAlgorithm: p.encryptAlgorithm,
    clientToken: p.clientToken,
    dryRun,
  });
}

/** CopyImage is called in the source region with DestinationRegionId; it returns the new image's id. */
export async function startEcsCopy(clients: EcsClients, p: EcsCopyParams, signal?: AbortSignal): Promise<string> {
  const ecs = clients.ecsIn(p.sourceRegion);
  const out = await ecsCall(clients, 'CopyImage', () => ecs.copyImageWithOptions(copyRequest(p, false), clients.runtime), signal);
  if (!out.body?.imageId) throw vmxError(CLOUD.BAD_RESPONSE, `CopyImage of ${p.sourceImageId} answered without an ImageId`);
  return out.body.imageId;
}

/** CopyImage with DryRun=true (ECS API reference, CopyImage DryRun): DryRunOperation when it would be accepted. */
export function dryRunEcsCopy(clients: EcsClients, p: EcsCopyParams, signal?: AbortSignal): Promise<void> {
  const ecs = clients.ecsIn(p.sourceRegion);
  return ecsDryRun(clients, 'CopyImage', () => ecs.copyImageWithOptions(copyRequest(p, true), clients.runtime), signal);
}

/** CancelCopyImage in the copy's (destination) region: the copy is deleted, the source stays (ECS API reference). */
export async function cancelEcsCopy(clients: EcsClients, region: string, imageId: string): Promise<void> {
  const ecs = clients.ecsIn(region);
  await ecsCall(clients, 'CancelCopyImage', () => ecs.cancelCopyImageWithOptions(new EcsSdk.CancelCopyImageRequest({ regionId: region, imageId }), clients.runtime));
}

function shareRequest(region: string, imageId: string, accounts: string[], dryRun: boolean): EcsSdk.ModifyImageSharePermissionRequest {
  return new EcsSdk.ModifyImageSharePermissionRequest({ regionId: region, imageId, addAccount: accounts, dryRun });
}

/** ModifyImageSharePermission with AddAccount.1-10 (the API takes 10 accounts per call). */
export async function addEcsShareAccounts(clients: EcsClients, region: string, imageId: string, accounts: string[], signal?: AbortSignal): Promise<void> {
  const ecs = clients.ecsIn(region);
  await ecsCall(clients, 'ModifyImageSharePermission', () => ecs.modifyImageSharePermissionWithOptions(shareRequest(region, imageId, accounts, false), clients.runtime), signal);
}

/** The same batch with DryRun=true (ModifyImageSharePermission reference, DryRun). */
export function dryRunEcsShareAccounts(clients: EcsClients, region: string, imageId: string, accounts: string[], signal?: AbortSignal): Promise<void> {
  const ecs = clients.ecsIn(region);
  return ecsDryRun(clients, 'ModifyImageSharePermission', () => ecs.modifyImageSharePermissionWithOptions(shareRequest(region, imageId, accounts, true), clients.runtime), signal);
}

/** DescribeImageSharePermission, every page of 100: the accounts the image is already shared with. */
export async function ecsSharedAccounts(clients: EcsClients, region: string, imageId: string, signal?: AbortSignal): Promise<string[]> {
  const ecs = clients.ecsIn(region);
  const out: string[] = [];
  for (let page = 1; ; page++) {
    const r = await ecsCall(clients, 'DescribeImageSharePermission', () => ecs.describeImageSharePermissionWithOptions(new EcsSdk.DescribeImageSharePermissionRequest({ regionId: region, imageId, pageNumber: page, pageSize: 100 }), clients.runtime), signal);
    const accounts = (r.body?.accounts?.account ?? []).map((a) => a.aliyunId).filter((a): a is string => typeof a === 'string');
    out.push(...accounts);
    if (accounts.length < 100 || out.length >= (r.body?.totalCount ?? 0)) return out;
  }
}

/** ModifyImageSharePermission IsPublic=true publishes the image as a community image. */
export async function publishEcsCommunityImage(clients: EcsClients, region: string, imageId: string, signal?: AbortSignal): Promise<void> {
  const ecs = clients.ecsIn(region);
  await ecsCall(clients, 'ModifyImageSharePermission', () => ecs.modifyImageSharePermissionWithOptions(new EcsSdk.ModifyImageSharePermissionRequest({ regionId: region, imageId, isPublic: true }), clients.runtime), signal);
}
