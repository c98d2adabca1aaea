import EcsSdk from '@alicloud/ecs20140526';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { ecsCall, type EcsClients } from './ecs-clients.js';

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

/** CopyImage is called in the source region with DestinationRegionId; it returns the new image's id. */
export async function startEcsCopy(clients: EcsClients, p: EcsCopyParams, signal?: AbortSignal): Promise<string> {
  const ecs = clients.ecsIn(p.sourceRegion);
  const out = await ecsCall(clients, 'CopyImage', () => ecs.copyImageWithOptions(new EcsSdk.CopyImageRequest({
    regionId: p.sourceRegion,
    imageId: p.sourceImageId,
    destinationRegionId: p.destinationRegion,
    destinationImageName: p.destinationImageName,
    destinationDescription: p.destinationDescription,
    encrypted: p.encrypted,
    KMSKeyId: p.kmsKeyId,
    encryptAlgorithm: p.encryptAlgorithm,
    clientToken: p.clientToken,
  }), clients.runtime), signal);
  if (!out.body?.imageId) throw vmxError(CLOUD.BAD_RESPONSE, `CopyImage of ${p.sourceImageId} answered without an ImageId`);
  return out.body.imageId;
}

/** ModifyImageSharePermission with AddAccount.1-10 (the API takes 10 accounts per call). */
export async function addEcsShareAccounts(clients: EcsClients, region: string, imageId: string, accounts: string[], signal?: AbortSignal): Promise<void> {
  const ecs = clients.ecsIn(region);
  await ecsCall(clients, 'ModifyImageSharePermission', () => ecs.modifyImageSharePermissionWithOptions(new EcsSdk.ModifyImageSharePermissionRequest({ regionId: region, imageId, addAccount: accounts }), clients.runtime), signal);
}

/** ModifyImageSharePermission IsPublic=true publishes the image as a community image. */
export async function publishEcsCommunityImage(clients: EcsClients, region: string, imageId: string, signal?: AbortSignal): Promise<void> {
  const ecs = clients.ecsIn(region);
  await ecsCall(clients, 'ModifyImageSharePermission', () => ecs.modifyImageSharePermissionWithOptions(new EcsSdk.ModifyImageSharePermissionRequest({ regionId: region, imageId, isPublic: true }), clients.runtime), signal);
}
