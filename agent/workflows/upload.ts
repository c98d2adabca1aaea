import { uploadImage, type UploadRequest, type UploadResult } from '../transfer/upload.js';
import type { ImportStepResult, StartedImport } from '../cloud/tasks/import-step.js';
import type { DistributeResult, ImageShares } from '../cloud/distribute/distribute-step.js';
import type { CopyOutcome } from '../cloud/distribute/copy-outcome.js';
import { distributedImageId } from '../cloud/distribute/distributed-image.js';
import { cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import { importStepParams } from '../cloud/upload-import/import-step-params.js';
import { objectFormat } from '../cloud/upload-import/output-facts.js';
import type { UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import { parseObjectUrl } from '../sinks/object-url.js';
import type { CloudPort, WorkflowPorts } from './ports.js';
import { STEP } from './steps.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';

/** `vmxfer upload` and an upload job: the transfer, then the optional import, copies and shares. */
export interface UploadWorkflowRequest {
  /** The transfer as uploadImage takes it, less what the ports give (sink, key, progress, signal). */
  transfer: Omit<UploadRequest, 'sink' | 'key' | 'progress' | 'signal'>;
  /** The import of the stored object, planned by its preflight (agent/cloud/upload-import). */
  import?: { options: ImportOptions; plan: UploadImportPlan } | undefined;
}

export interface UploadWorkflowResult {
  upload: UploadResult;
  imported?: ImportStepResult | undefined;
  distributed?: DistributeResult | undefined;
}

export function wantsDistribute(o: ImportOptions | null | undefined): boolean {
  return Boolean(o?.copy?.length || o?.share);
}

/** Where the imported image lives: ECS `import.region` when given, else the connection's region. */
export function importRegion(o: ImportOptions, cloud: CloudPort): string | undefined {
  return cloudOf(o.target) === 'aws' ? cloud.connections.aws?.region : (o.region ?? cloud.connections.ecs?.region);
}

/**
 * Each step runs once through the journal: a restart after the upload does not upload again, one after
 * ImportImage follows the recorded task, one after CopyImage follows the recorded copies.
 */
export async function uploadWorkflow(request: UploadWorkflowRequest, ports: WorkflowPorts): Promise<UploadWorkflowResult> {
  const { sink, key } = await ports.sinks.open(request.transfer.destination);
  const upload = await ports.journal.once(STEP.upload, () => uploadImage({ ...request.transfer, sink, key, progress: ports.progress, signal: ports.signal }));
  if (!request.import) return { upload };
  const imported = await ports.journal.once(STEP.imported, () => importObject(request.transfer.destination, request.import!, ports));
  if (!wantsDistribute(request.import.options)) return { upload, imported };
  ports.reporter.outcome({ imported });
  const distributed = await ports.journal.once(STEP.distributed, () => distribute(imported, request.import!.options, ports));
  return { upload, imported, distributed };
}

function taskCallbacks(ports: WorkflowPorts) {
  return { onStatus: (s: CloudTaskStatus) => ports.reporter.cloudTask(s), onRetry: (code: string) => ports.cloud.onRetry?.(code) };
}

async function importObject(url: string, { options, plan }: NonNullable<UploadWorkflowRequest['import']>, ports: WorkflowPorts): Promise<ImportStepResult> {
  ports.reporter.phase('importing');
  // The SDKs load only when an import runs (seconds of start-up plain uploads do not pay).
  const { runImportStep } = await import('../cloud/tasks/import-step.js');
  const { bucket, key } = parseObjectUrl(url);
  const object = { bucket, key, format: objectFormat(plan.facts, cloudOf(options.target)), virtualSize: plan.facts.disks[0]?.virtualSize ?? 0 };
  const params = importStepParams(options, object, ports.cloud.connections, ports.cloud.poll);
  const step = { ...params, resume: ports.journal.read<StartedImport>(STEP.importStarted), cancelOnAbort: ports.cloud.cancelOnAbort };
  return runImportStep(step, { ...taskCallbacks(ports), onStarted: (started) => ports.journal.note(STEP.importStarted, started) }, ports.signal);
}

/**
 * The copies (each ClientToken fixed with the request; each started copy's id recorded before it is
 * followed), then the shares. All ECS copies of the process share one limiter (five per region).
 */
async function distribute(imported: ImportStepResult, o: ImportOptions, ports: WorkflowPorts): Promise<DistributeResult> {
  const [{ runDistribute }, { processCopyLimiter }] = await Promise.all([import('../cloud/distribute/distribute-step.js'), import('../cloud/tasks/copy-limiter.js')]);
  const c = ports.cloud.connections;
  const common = {
    sourceImageId: distributedImageId(imported),
    sourceRegion: importRegion(o, ports.cloud)!,
    request: { copies: o.copy, share: o.share },
    poll: ports.cloud.poll,
    dryRun: o.dryRun !== false,
    started: ports.journal.read<Record<string, string>>(STEP.copiesStarted),
    cancelOnAbort: ports.cloud.cancelOnAbort,
  };
  const params = cloudOf(o.target) === 'aws' ? { ...common, cloud: 'aws' as const, connection: c.aws! } : { ...common, cloud: 'ecs' as const, connection: c.ecs!, limiter: processCopyLimiter() };
  const callbacks = {
    ...taskCallbacks(ports),
    onPhase: (phase: 'copying' | 'sharing') => ports.reporter.phase(phase),
    // Synchronous read then write: copies started at once all land in the one map.
    onCopyStarted: (region: string, imageId: string) => ports.journal.note(STEP.copiesStarted, { ...ports.journal.read<Record<string, string>>(STEP.copiesStarted), [region]: imageId }),
    onCopyState: (copy: CopyOutcome) => ports.reporter.outcome({ copy }),
    onShared: (shares: ImageShares) => ports.reporter.outcome({ shares }),
  };
  return runDistribute(params, callbacks, ports.signal);
}
