import { isVmxferError, vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { cloudCodeOfError } from '../cloud-error.js';
import { awsClients, type AwsConnection } from '../aws/aws-clients.js';
import { addLaunchPermissions, dryRunLaunchPermissions } from '../aws/aws-copy-share.js';
import { ecsClients, type EcsConnection } from '../ecs/ecs-clients.js';
import { addEcsShareAccounts, dryRunEcsShareAccounts, ecsSharedAccounts, publishEcsCommunityImage } from '../ecs/ecs-copy-share.js';
import { ecsImage } from '../ecs/ecs-tasks.js';

import { ECS_SHARE_BATCH, ECS_SHARE_MAX } from '../distribute/share-limits.js';

export { ECS_SHARE_BATCH, ECS_SHARE_MAX };

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

export interface ShareRun {
  /** A DryRun of each call before the real one (EC2 ModifyImageAttribute, ECS ModifyImageSharePermission). */
  dryRun?: boolean | undefined;
}

/** The batch's DryRun (when asked) then the call; a refusal of either is the batch's outcome. */
async function shareBatch(batch: string[], dryRun: (() => Promise<void>) | undefined, call: () => Promise<void>): Promise<ShareOutcome[]> {
  try {
    await dryRun?.();
    await call();
    return batch.map((account) => ({ account, shared: true }));
  } catch (err) {
    return failed(batch, err);
  }
}

/**
 * Shares an ECS image in batches of 10 and reports each account's outcome. The accounts it is already
 * shared with (DescribeImageSharePermission) count towards the 50: more is refused before any change,
 * so nothing is half-shared.
 */
export async function shareEcsImage(connection: EcsConnection, region: string, imageId: string, accounts: string[], signal?: AbortSignal, run: ShareRun = {}): Promise<ShareOutcome[]> {
  const clients = ecsClients(connection);
  const existing = new Set(await ecsSharedAccounts(clients, region, imageId, signal));
  const unique = [...new Set(accounts)].filter((a) => !existing.has(a));
  if (existing.size + unique.length > ECS_SHARE_MAX) {
    throw vmxError(CLOUD.SHARE_LIMIT, `${unique.length} accounts given and ${imageId} is already shared with ${existing.size}; ECS shares an image with at most ${ECS_SHARE_MAX} accounts — share a copy of the image with the rest`);
  }
  const out: ShareOutcome[] = [...new Set(accounts)].filter((a) => existing.has(a)).map((account) => ({ account, shared: true, message: 'already shared' }));
  for (const batch of shareBatches(unique)) {
    const dryRun = run.dryRun ? () => dryRunEcsShareAccounts(clients, region, imageId, batch, signal) : undefined;
    out.push(...(await shareBatch(batch, dryRun, () => addEcsShareAccounts(clients, region, imageId, batch, signal))));
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

/** EC2 launch permissions for a list of accounts: one ModifyImageAttribute in the image's region, one outcome per account. */
export async function shareAwsImage(connection: AwsConnection, imageId: string, accounts: string[], signal?: AbortSignal, run: ShareRun & { region?: string | undefined } = {}): Promise<ShareOutcome[]> {
  const unique = [...new Set(accounts)];
  const clients = awsClients(connection);
  const region = run.region ?? connection.region;
  const dryRun = run.dryRun ? () => dryRunLaunchPermissions(clients, region, imageId, unique, signal) : undefined;
  return shareBatch(unique, dryRun, () => addLaunchPermissions(clients, region, imageId, unique, signal));
}
