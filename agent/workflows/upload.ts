import { uploadImage, type UploadRequest, type UploadResult } from '../transfer/upload.js';
import { uploadIncremental } from '../incremental/incremental-upload.js';
import type { ChangedExtentList } from '../incremental/changed-blocks/extent-list.js';
import type { ImportStepResult, StartedImport } from '../cloud/tasks/import-step.js';
import type { DistributeResult } from '../cloud/distribute/distribute-step.js';
import { distributedImageId } from '../cloud/distribute/distributed-image.js';
import { cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import { importStepParams } from '../cloud/upload-import/import-step-params.js';
import { objectFormat } from '../cloud/upload-import/output-facts.js';
import type { UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import { parseObjectUrl } from '../sinks/object-url.js';
import type { CloudPort, WorkflowPorts } from './ports.js';
import { STEP } from './steps.js';
import { distributeWorkflow } from './distribute.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';

/** `vmxfer upload` and an upload job: the transfer, then the optional import, copies and shares. */
export interface UploadWorkflowRequest {
  /** The transfer as uploadImage takes it, less what the ports give (sink, key, progress, signal). */
  transfer: Omit<UploadRequest, 'sink' | 'key' | 'progress' | 'signal'>;
  /** Send only the parts that changed since the object's manifest (agent/incremental); warnings go to `warn`. */
  incremental?: { warn: (sentence: string) => void; changed?: ChangedExtentList | undefined } | undefined;
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
export function importRegion(o: ImportOptions, cloud: Pick<CloudPort, 'connections'>): string | undefined {
  return cloudOf(o.target) === 'aws' ? cloud.connections.aws?.region : (o.region ?? cloud.connections.ecs?.region);
}

/**
 * Each step runs once through the journal: a restart after the upload does not upload again, one after
 * ImportImage follows the recorded task, one after CopyImage follows the recorded copies.
 */
export async function uploadWorkflow(request: UploadWorkflowRequest, ports: WorkflowPorts): Promise<UploadWorkflowResult> {
  const { sink, key } = await ports.sinks.open(request.transfer.destination);
  const transfer: UploadRequest = { ...request.transfer, sink, key, progress: ports.progress, signal: ports.signal, beforeComplete: ports.fence };
  const incremental = request.incremental;
  const upload = await ports.journal.once(STEP.upload, () => (incremental ? uploadIncremental(transfer, incremental.warn, incremental.changed) : uploadImage(transfer)));
  if (!request.import) return { upload };
  const imported = await ports.journal.once(STEP.imported, () => importObject(request.transfer.destination, request.import!, ports));
  if (!wantsDistribute(request.import.options)) return { upload, imported };
  ports.reporter.outcome({ imported });
  const o = request.import.options;
  const distributed = await distributeWorkflow(
    { cloud: cloudOf(o.target), sourceImageId: distributedImageId(imported), sourceRegion: importRegion(o, ports.cloud)!, request: { copies: o.copy, share: o.share }, dryRun: o.dryRun !== false },
    ports,
  );
  return { upload, imported, distributed };
}

function taskCallbacks(ports: WorkflowPorts) {
  return { onStatus: (s: CloudTaskStatus) => ports.reporter.cloudTask(s), onRetry: (code: string) => ports.cloud.onRetry?.(code) };
}

async function importObject(url: string, { options, plan }: NonNullable<UploadWorkflowRequest['import']>, ports: WorkflowPorts): Promise<ImportStepResult> {
  await ports.fence?.();
  ports.reporter.phase('importing');
  // The SDKs load only when an import runs (seconds of start-up plain uploads do not pay).
  const { runImportStep } = await import('../cloud/tasks/import-step.js');
  const { bucket, key } = parseObjectUrl(url);
  const object = { bucket, key, format: objectFormat(plan.facts, cloudOf(options.target)), virtualSize: plan.facts.disks[0]?.virtualSize ?? 0 };
  const params = importStepParams(options, object, ports.cloud.connections, ports.cloud.poll);
  const step = { ...params, resume: ports.journal.read<StartedImport>(STEP.importStarted), cancelOnAbort: ports.cloud.cancelOnAbort };
  return runImportStep(step, { ...taskCallbacks(ports), onStarted: (started) => ports.journal.note(STEP.importStarted, started) }, ports.signal);
}
