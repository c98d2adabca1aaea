import type { CopyOutcome } from '../cloud/distribute/copy-outcome.js';
import type { DistributeRequest } from '../cloud/distribute/distribute-options.js';
import type { DistributeResult, ImageShares } from '../cloud/distribute/distribute-step.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import { distributeProblems, refuseDistribute } from '../cloud/distribute/distribute-rules.js';
import type { WorkflowPorts } from './ports.js';
import { STEP } from './steps.js';

/** `vmxfer image copy|share`, and what follows an import: copies of an image to other regions, then its shares. */
export interface DistributeWorkflowRequest {
  cloud: 'aws' | 'ecs';
  sourceImageId: string;
  /** Where the image lives (an ECS import's `region` when it names one). */
  sourceRegion: string;
  request: DistributeRequest;
  /** DryRun before each CopyImage and share call. */
  dryRun: boolean;
}

/**
 * The copies, then the shares, each a step of the journal. Each started copy's id is recorded before it
 * is followed, so a restart follows it instead of calling CopyImage again; every ECS copy of the process
 * shares one limiter (five per region), whether one command or many jobs start them.
 */
export async function distributeWorkflow(r: DistributeWorkflowRequest, ports: WorkflowPorts): Promise<DistributeResult> {
  refuseDistribute(distributeProblems(r.cloud, r.request, r.sourceRegion));
  const [{ runDistribute, runShares }, { processCopyLimiter }] = await Promise.all([import('../cloud/distribute/distribute-step.js'), import('../cloud/tasks/copy-limiter.js')]);
  const c = ports.cloud.connections;
  const common = {
    sourceImageId: r.sourceImageId,
    sourceRegion: r.sourceRegion,
    request: { copies: r.request.copies },
    poll: ports.cloud.poll,
    dryRun: r.dryRun,
    started: ports.journal.read<Record<string, string>>(STEP.copiesStarted),
    cancelOnAbort: ports.cloud.cancelOnAbort,
  };
  const params = r.cloud === 'aws' ? { ...common, cloud: 'aws' as const, connection: c.aws! } : { ...common, cloud: 'ecs' as const, connection: c.ecs!, limiter: processCopyLimiter() };
  const callbacks = {
    onStatus: (s: CloudTaskStatus) => ports.reporter.cloudTask(s),
    onRetry: (code: string) => ports.cloud.onRetry?.(code),
    onPhase: (phase: 'copying' | 'sharing') => ports.reporter.phase(phase),
    // Read then write in one turn: copies that start together all land in the one map.
    onCopyStarted: (region: string, imageId: string) => ports.journal.note(STEP.copiesStarted, { ...ports.journal.read<Record<string, string>>(STEP.copiesStarted), [region]: imageId }),
    onCopyState: (copy: CopyOutcome) => ports.reporter.outcome({ copy }),
    onShared: (shares: ImageShares) => ports.reporter.outcome({ shares }),
  };
  const { copies } = await ports.journal.once(STEP.copied, async () => {
    await ports.fence?.();
    return runDistribute(params, callbacks, ports.signal);
  });
  if (!r.request.share) return { copies, shares: [] };
  const shares = await ports.journal.once(STEP.shared, async () => {
    await ports.fence?.();
    return runShares({ ...params, request: r.request }, copies, callbacks, ports.signal);
  });
  return { copies, shares };
}
