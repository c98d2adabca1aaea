import { distributeProblems, refuseDistribute } from '../cloud/distribute/distribute-rules.js';
import { cloudOf } from '../cloud/upload-import/import-options.js';
import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import { refuseFindings } from '../cloud/upload-import/refuse-findings.js';
import { sourceFacts } from '../cloud/upload-import/source-facts.js';
import { planUploadImport, type UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import { remoteImportPreflight } from '../cloud/upload-import/remote-import-preflight.js';
import { pollEvery } from '../cloud/poll-task.js';
import { guestPreflight } from '../guest/guest-preflight.js';
import type { GuestReport } from '../guest/inspector.js';
import { STEP } from '../workflows/steps.js';
import { importRegion, wantsDistribute } from '../workflows/upload.js';
import type { JobRecord } from './job-types.js';
import type { RunContext } from './run-context.js';
import { stepsOf } from './record-step-journal.js';

/**
 * The job's import preflight, run while it validates: the local rules, then the role check (unless
 * `import.checkRole` is false, or a restarted job already follows its task); the upload does not
 * start when it fails.
 */
export async function preflightJobImport(job: JobRecord, ctx: RunContext, signal: AbortSignal, onGuest?: (report: GuestReport) => void): Promise<UploadImportPlan | undefined> {
  if (!job.import) return undefined;
  const facts = await sourceFacts(job.source, { parent: job.options.parent, signal });
  const plan = planUploadImport(job.import, facts, job.format);
  const steps = stepsOf(job);
  const started = steps[STEP.importStarted] !== undefined;
  if (!started && steps[STEP.upload] === undefined) {
    const guest = await guestPreflight({ ...job.import, path: job.source, parent: job.options.parent, signal });
    // The facts are recorded before the findings can refuse the job, so a failed job shows why.
    if (guest.report) onGuest?.(guest.report);
    plan.findings.push(...guest.findings);
  }
  if (!started) plan.findings.push(...(await remoteImportPreflight(job.import, connectionsFromConfig(ctx.config), signal)));
  refuseFindings(plan.findings, `${job.import.target} import`);
  return plan;
}

/** The copy/share request checked while the job validates, before the first byte (the source region is the import's). */
export function checkJobDistribute(job: JobRecord, ctx: RunContext): void {
  const o = job.import;
  if (!o || !wantsDistribute(o)) return;
  const cloud = { connections: connectionsFromConfig(ctx.config), poll: pollEvery(ctx.config.cloud.poll_seconds) };
  refuseDistribute(distributeProblems(cloudOf(o.target), { copies: o.copy, share: o.share }, importRegion(o, cloud)));
}
