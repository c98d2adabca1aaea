import { pollEvery } from '../cloud/poll-task.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import { distributeProblems, refuseDistribute } from '../cloud/distribute/distribute-rules.js';
import type { DistributeResult, ImageShares } from '../cloud/distribute/distribute-step.js';
import type { CopyOutcome } from '../cloud/distribute/copy-outcome.js';
import { distributedImageId } from '../cloud/distribute/distributed-image.js';
import { cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import type { CloudConnections } from '../cloud/upload-import/import-step-params.js';
import { cancelTaskUnlessShutdown, jobTaskCallbacks } from './job-cloud-task.js';
import type { ImportedResult, JobPhase, JobRecord } from './job-types.js';
import type { RunContext } from './run-context.js';

/** What the copies and shares report back to the job service (which records, persists and publishes it). */
export interface DistributeHooks {
  signal: AbortSignal;
  onPhase(phase: JobPhase): void;
  onCloudTask(status: CloudTaskStatus): void;
  /** Resolves once the finished import is durable: a restart mid-copy does not follow the import again. */
  onImported(imported: ImportedResult): Promise<void>;
  /** Resolves once the copy's image id is durable: a restart follows it instead of calling CopyImage. */
  onCopyStarted(region: string, imageId: string): Promise<void>;
  /** Each change of a copy's state and each image's shares, recorded in the job's cloudOutcome as they happen. */
  onCopyState(copy: CopyOutcome): void;
  onShared(shares: ImageShares): void;
}

export function wantsDistribute(o: ImportOptions | null | undefined): boolean {
  return Boolean(o?.copy?.length || o?.share);
}

/** Where the imported image lives: ECS `import.region` when given, else the connection's region. */
function sourceRegion(o: ImportOptions, c: CloudConnections): string | undefined {
  return cloudOf(o.target) === 'aws' ? c.aws?.region : (o.region ?? c.ecs?.region);
}

/** The copy/share request checked while the job validates, before the first byte (the source region is the import's). */
export function checkJobDistribute(job: JobRecord, ctx: RunContext): void {
  const o = job.import;
  if (!o || !wantsDistribute(o)) return;
  refuseDistribute(distributeProblems(cloudOf(o.target), { copies: o.copy, share: o.share }, sourceRegion(o, connectionsFromConfig(ctx.config))));
}

/**
 * After the import: the copies (each ClientToken is in the job record since submit; each started copy's
 * id is persisted before it is followed), then the shares. A daemon stop leaves copies running for the
 * next start to follow; a cancel stops them (CancelCopyImage / DeregisterImage).
 */
export async function distributeAfterImport(job: JobRecord, imported: ImportedResult, ctx: RunContext, hooks: DistributeHooks): Promise<DistributeResult | undefined> {
  const o = job.import!;
  if (!wantsDistribute(o)) return undefined;
  const [{ runDistribute }, { processCopyLimiter }] = await Promise.all([import('../cloud/distribute/distribute-step.js'), import('../cloud/tasks/copy-limiter.js')]);
  const c = connectionsFromConfig(ctx.config);
  const common = {
    sourceImageId: distributedImageId(imported),
    sourceRegion: sourceRegion(o, c)!,
    request: { copies: o.copy, share: o.share },
    poll: pollEvery(ctx.config.cloud.poll_seconds),
    dryRun: o.dryRun !== false,
    started: job.copiesStarted ?? undefined,
    cancelOnAbort: cancelTaskUnlessShutdown,
  };
  const params = cloudOf(o.target) === 'aws' ? { ...common, cloud: 'aws' as const, connection: c.aws! } : { ...common, cloud: 'ecs' as const, connection: c.ecs!, limiter: processCopyLimiter() };
  const callbacks = { ...jobTaskCallbacks(ctx, hooks.onCloudTask), onPhase: hooks.onPhase, onCopyStarted: hooks.onCopyStarted, onCopyState: hooks.onCopyState, onShared: hooks.onShared };
  return runDistribute(params, callbacks, hooks.signal);
}
