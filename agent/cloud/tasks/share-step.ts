import { isVmxferError, vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { cloudCodeOfError } from '../cloud-error.js';
import { awsClients, type AwsConnection } from '../aws/aws-clients.js';
import { addLaunchPermissions } from '../aws/aws-copy-share.js';
import { ecsClients, type EcsConnection } from '../ecs/ecs-clients.js';
import { addEcsShareAccounts, publishEcsCommunityImage } from '../ecs/ecs-copy-share.js';
import { ecsImage } from '../ecs/ecs-tasks.js';

/** ModifyImageSharePermission: 10 accounts per call (more are silently ignored), 50 accounts per image. */
export const ECS_SHARE_BATCH = 10;
export const ECS_SHARE_MAX = 50;

export interface ShareOutcome {
  account: string;
  shared: boolean;
  /** The cloud's error code when the batch holding this account failed. */
  cloudCode?: string | undefined;
  message?: string | undefined;
}

export function shareBatches(accounts: string[], size = ECS_SHARE_BATCH): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < accounts.length; i += size) out.push(accounts.slice(i, i + size));
  return out;
}

function failed(batch: string[], err: unknown): ShareOutcome[] {
  if (!isVmxferError(err)) throw err;
  return batch.map((account) => ({ account, shared: false, cloudCode: cloudCodeOfError(err), message: err.message }));
}

/**
 * Shares an ECS image in batches of 10 and reports each account's outcome; more than 50 distinct
 * accounts are refused before any call, so nothing is half-shared.
 */
export async function shareEcsImage(connection: EcsConnection, region: string, imageId: string, accounts: string[], signal?: AbortSignal): Promise<ShareOutcome[]> {
  const unique = [...new Set(accounts)];
  if (unique.length > ECS_SHARE_MAX) {
    throw vmxError(CLOUD.SHARE_LIMIT, `${unique.length} accounts given; ECS shares an image with at most ${ECS_SHARE_MAX} accounts — share a copy of the image with the rest`);
  }
  const clients = ecsClients(connection);
  const out: ShareOutcome[] = [];
  for (const batch of shareBatches(unique)) {
    try {
      await addEcsShareAccounts(clients, region, imageId, batch, signal);
      out.push(...batch.map((account) => ({ account, shared: true })));
    } catch (err) {
      out.push(...failed(batch, err));
    }
  }
  return out;
}

/** Publishes a community image, refused for encrypted images (their snapshots cannot be made public). */
export async function publishEcsImage(connection: EcsConnection, region: string, imageId: string, signal?: AbortSignal): Promise<void> {
  const clients = ecsClients(connection);
  const img = await ecsImage(clients, region, imageId, signal);
  if (img?.encrypted) throw vmxError(CLOUD.SHARE_REFUSED, `${imageId} has encrypted disks; an encrypted image cannot be published as a community image`);
  await publishEcsCommunityImage(clients, region, imageId, signal);
}

/** EC2 launch permissions for a list of accounts: one ModifyImageAttribute, one outcome per account. */
export async function shareAwsImage(connection: AwsConnection, imageId: string, accounts: string[], signal?: AbortSignal): Promise<ShareOutcome[]> {
  const unique = [...new Set(accounts)];
  try {
    await addLaunchPermissions(awsClients(connection), imageId, unique, signal);
    return unique.map((account) => ({ account, shared: true }));
  } catch (err) {
    return failed(unique, err);
  }
}
