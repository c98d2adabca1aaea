import { isVmxferError } from '../../core/errors.js';
import { cloudCodeOfError } from '../cloud-error.js';
import type { AwsConnection } from '../aws/aws-clients.js';
import type { EcsConnection } from '../ecs/ecs-clients.js';
import type { PollPolicy } from '../poll-task.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import type { TaskSlots } from '../tasks/task-slots.js';
import { copyAwsImage, copyEcsImage, type CopyResult } from '../tasks/copy-step.js';
import { publishEcsImage, shareAwsImage, shareEcsImage, type ShareOutcome } from '../tasks/share-step.js';
import type { CopyRequest, DistributeRequest } from './distribute-options.js';
import { distributeProblems, refuseDistribute } from './distribute-rules.js';
import { copyEnd, type CopyOutcome } from './copy-outcome.js';

interface CommonParams {
  sourceImageId: string;
  sourceRegion: string;
  request: DistributeRequest;
  poll?: PollPolicy | undefined;
  /** DryRun before each CopyImage and share call. */
  dryRun?: boolean | undefined;
  /** Region → copy id started by a previous run: followed, not started again. */
  started?: Record<string, string> | undefined;
  cancelOnAbort?: ((reason: unknown) => boolean) | undefined;
  /** Where each copy takes its slot (default: this process's, with the default caps). */
  slots?: TaskSlots | undefined;
}

export type DistributeParams =
  | ({ cloud: 'aws'; connection: AwsConnection } & CommonParams)
  | ({ cloud: 'ecs'; connection: EcsConnection } & CommonParams);

export interface DistributeCallbacks extends CloudTaskCallbacks {
  /** Awaited once CopyImage names the copy, before it is followed. */
  onCopyStarted?: ((region: string, imageId: string) => Promise<void> | void) | undefined;
  onPhase?: ((phase: 'copying' | 'sharing') => void) | undefined;
  /** Each change of a copy: `copying` once the cloud names it (or a restart follows it), then `available`, `failed` or `cancelled`. */
  onCopyState?: ((copy: CopyOutcome) => void) | undefined;
  /** One image's share outcome, as soon as its share calls have answered. */
  onShared?: ((shares: ImageShares) => void) | undefined;
}

export interface ImageShares {
  region: string;
  imageId: string;
  accounts: ShareOutcome[];
  /** ECS community publishing, when asked. */
  community?: { published: boolean; cloudCode?: string | undefined; message?: string | undefined } | undefined;
}

export interface DistributeResult {
  copies: Array<{ region: string; imageId: string }>;
  shares: ImageShares[];
}

/** Every copy at once (each waits for its slot), then the shares: the source image's and each copy's. */
export async function runDistribute(p: DistributeParams, callbacks: DistributeCallbacks = {}, signal?: AbortSignal): Promise<DistributeResult> {
  refuseDistribute(distributeProblems(p.cloud, p.request, p.sourceRegion));
  const requests = p.request.copies ?? [];
  if (requests.length) callbacks.onPhase?.('copying');
  const settled = await Promise.allSettled(requests.map((c) => copyReported(p, c, callbacks, signal)));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  const copies = settled.map((s) => (s as PromiseFulfilledResult<CopyResult>).value).map((c) => ({ region: c.destinationRegion, imageId: c.imageId }));
  if (!p.request.share) return { copies, shares: [] };
  return { copies, shares: await runShares(p, copies, callbacks, signal) };
}

/** The shares of the source image and of each of its `copies`, one image after the other. */
export async function runShares(p: DistributeParams, copies: DistributeResult['copies'], callbacks: DistributeCallbacks = {}, signal?: AbortSignal): Promise<ImageShares[]> {
  callbacks.onPhase?.('sharing');
  const images = [{ region: p.sourceRegion, imageId: p.sourceImageId }, ...copies];
  const shares: ImageShares[] = [];
  for (const img of images) {
    const shared = await shareOne(p, img, signal);
    callbacks.onShared?.(shared);
    shares.push(shared);
  }
  return shares;
}

/** One copy, each change of its state handed to onCopyState. */
async function copyReported(p: DistributeParams, c: CopyRequest, callbacks: DistributeCallbacks, signal?: AbortSignal): Promise<CopyResult> {
  let imageId = p.started?.[c.region] ?? null;
  const report = (end: Omit<CopyOutcome, 'region' | 'imageId'>) => callbacks.onCopyState?.({ region: c.region, imageId, ...end });
  if (imageId) report({ state: 'copying' });
  const onCopyStarted = async (region: string, id: string) => {
    await callbacks.onCopyStarted?.(region, id);
    imageId = id;
    report({ state: 'copying' });
  };
  try {
    const done = await copyOne(p, c, { ...callbacks, onCopyStarted }, signal);
    report({ state: 'available' });
    return done;
  } catch (err) {
    const end = copyEnd(err, signal, p.cancelOnAbort);
    if (end) report(end);
    throw err;
  }
}

function copyOne(p: DistributeParams, c: CopyRequest, callbacks: DistributeCallbacks, signal?: AbortSignal): Promise<CopyResult> {
  const run = {
    sourceImageId: p.sourceImageId,
    sourceRegion: p.sourceRegion,
    destinationRegion: c.region,
    encrypted: c.encrypted,
    kmsKeyId: c.kmsKeyId,
    clientToken: c.clientToken,
    poll: p.poll,
    dryRun: p.dryRun,
    resumeImageId: p.started?.[c.region],
    onStarted: (imageId: string) => callbacks.onCopyStarted?.(c.region, imageId),
    cancelOnAbort: p.cancelOnAbort,
    slots: p.slots,
  };
  if (p.cloud === 'aws') return copyAwsImage(p.connection, { ...run, name: c.name ?? `${p.sourceImageId} copy`, description: c.description }, callbacks, signal);
  return copyEcsImage(p.connection, { ...run, destinationImageName: c.name, destinationDescription: c.description, encryptAlgorithm: c.encryptAlgorithm }, callbacks, signal);
}

async function shareOne(p: DistributeParams, img: { region: string; imageId: string }, signal?: AbortSignal): Promise<ImageShares> {
  const share = p.request.share!;
  const run = { dryRun: p.dryRun };
  if (p.cloud === 'aws') {
    const accounts = share.accounts.length ? await shareAwsImage(p.connection, img.imageId, share.accounts, signal, { ...run, region: img.region }) : [];
    return { ...img, accounts };
  }
  const connection = { ...p.connection, region: img.region };
  const accounts = share.accounts.length ? await shareEcsImage(connection, img.region, img.imageId, share.accounts, signal, run) : [];
  return share.community ? { ...img, accounts, community: await publish(connection, img, signal) } : { ...img, accounts };
}

async function publish(connection: EcsConnection, img: { region: string; imageId: string }, signal?: AbortSignal): Promise<NonNullable<ImageShares['community']>> {
  try {
    await publishEcsImage(connection, img.region, img.imageId, signal);
    return { published: true };
  } catch (err) {
    if (!isVmxferError(err)) throw err;
    return { published: false, cloudCode: cloudCodeOfError(err), message: err.message };
  }
}
