import { parseObjectUrl } from '../sinks/object-url.js';
import { pollEvery } from '../cloud/poll-task.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import type { ImportStepResult, StartedImport } from '../cloud/tasks/import-step.js';
import { cloudOf } from '../cloud/upload-import/import-options.js';
import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import { importStepParams } from '../cloud/upload-import/import-step-params.js';
import { objectFormat } from '../cloud/upload-import/output-facts.js';
import { refuseFindings } from '../cloud/upload-import/refuse-findings.js';
import { sourceFacts } from '../cloud/upload-import/source-facts.js';
import { planUploadImport, type UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import { remoteImportPreflight } from '../cloud/upload-import/remote-import-preflight.js';
import { guestPreflight } from '../guest/guest-preflight.js';
import type { GuestReport } from '../guest/inspector.js';
import { cancelTaskUnlessShutdown, jobTaskCallbacks } from './job-cloud-task.js';
import type { JobRecord } from './job-types.js';
import type { RunContext } from './run-context.js';

/** What the import reports back to the job service (which records, persists and publishes it). */
export interface ImportHooks {
  signal: AbortSignal;
  onCloudTask(status: CloudTaskStatus): void;
  /** Resolves once the task id is durable in the job record. */
  onImportStarted(started: StartedImport): Promise<void>;
}

/**
 * The job's import preflight, run while it validates: the local rules, then the role check (unless
 * `import.checkRole` is false, or a restarted job already follows its task); the upload does not
 * start when it fails.
 */
export async function preflightJobImport(job: JobRecord, ctx: RunContext, signal: AbortSignal, onGuest?: (report: GuestReport) => void): Promise<UploadImportPlan | undefined> {
  if (!job.import) return undefined;
  const facts = await sourceFacts(job.source, { parent: job.options.parent, signal });
  const plan = planUploadImport(job.import, facts, job.format);
  if (!job.importTask && !job.uploaded) {
    const guest = await guestPreflight({ ...job.import, path: job.source, parent: job.options.parent, signal });
    // The facts are recorded before the findings can refuse the job, so a failed job shows why.
    if (guest.report) onGuest?.(guest.report);
    plan.findings.push(...guest.findings);
  }
  if (!job.importTask) plan.findings.push(...(await remoteImportPreflight(job.import, connectionsFromConfig(ctx.config), signal)));
  refuseFindings(plan.findings, `${job.import.target} import`);
  return plan;
}

/**
 * The import of the uploaded object. A job restarted mid-import follows the task its record names;
 * a daemon stopping (JOB_SHUTDOWN) leaves the task running for the next start, a cancel cancels it.
 */
export async function importAfterUpload(job: JobRecord, plan: UploadImportPlan, ctx: RunContext, hooks: ImportHooks): Promise<ImportStepResult> {
  const options = job.import!;
  // The SDKs load only when a job imports.
  const { runImportStep } = await import('../cloud/tasks/import-step.js');
  const { bucket, key } = parseObjectUrl(job.destination);
  const object = { bucket, key, format: objectFormat(plan.facts, cloudOf(options.target)), virtualSize: plan.facts.disks[0]?.virtualSize ?? 0 };
  const params = importStepParams(options, object, connectionsFromConfig(ctx.config), pollEvery(ctx.config.cloud.poll_seconds));
  const step = { ...params, resume: job.importTask ?? undefined, cancelOnAbort: cancelTaskUnlessShutdown };
  return runImportStep(step, { ...jobTaskCallbacks(ctx, hooks.onCloudTask), onStarted: (started) => hooks.onImportStarted(started) }, hooks.signal);
}
