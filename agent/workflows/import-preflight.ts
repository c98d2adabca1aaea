import type { Finding } from '../cloud/preflight/finding.js';
import { distributeProblems, refuseDistribute } from '../cloud/distribute/distribute-rules.js';
import { cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import { refuseFindings } from '../cloud/upload-import/refuse-findings.js';
import { remoteImportPreflight } from '../cloud/upload-import/remote-import-preflight.js';
import { sourceFacts } from '../cloud/upload-import/source-facts.js';
import { planUploadImport, type UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import { guestPreflight } from '../guest/guest-preflight.js';
import type { CloudPort, StepJournal, WorkflowPorts, WorkflowReporter } from './ports.js';
import { STEP } from './steps.js';
import { importRegion, wantsDistribute } from './upload.js';

/** The import of `upload --import` and of an upload job with `import`, checked before the first byte leaves. */
export interface ImportPreflightRequest {
  source: string;
  options: ImportOptions;
  /** Read the source as this format instead of detecting it (upload --format). */
  format?: string | undefined;
  parent?: string | undefined;
  /** What the upload writes (upload --as, the job's `format`). */
  as?: string | undefined;
  /** Shown before an error refuses the run: the terminal prints the repairs and warnings too. */
  onFindings?: ((findings: readonly Finding[]) => void) | undefined;
}

export interface ImportPreflightPorts extends Pick<WorkflowPorts, 'signal'> {
  journal: Pick<StepJournal, 'read'>;
  cloud: Pick<CloudPort, 'connections'>;
  reporter: Pick<WorkflowReporter, 'guest'>;
}

/**
 * The local rules, the guest inspection's rules (not after the upload of a restarted run: the source was
 * judged then) and the role check (not once the import task started, which a restart follows); an error
 * finding stops the run with CLOUD_PREFLIGHT_FAILED. The copy and share request is checked too.
 */
export async function preflightImport(request: ImportPreflightRequest, ports: ImportPreflightPorts): Promise<UploadImportPlan> {
  const { options } = request;
  const { signal } = ports;
  checkDistribute(options, ports.cloud);
  const facts = await sourceFacts(request.source, { format: request.format, parent: request.parent, signal });
  const plan = planUploadImport(options, facts, request.as);
  const started = ports.journal.read(STEP.importStarted) !== undefined;
  if (!started && ports.journal.read(STEP.upload) === undefined) {
    const guest = await guestPreflight({ ...options, path: request.source, format: request.format, parent: request.parent, signal });
    // The facts are reported before the findings can refuse the run, so a failed job shows why.
    if (guest.report) ports.reporter.guest(guest.report);
    plan.findings.push(...guest.findings);
  }
  if (!started) plan.findings.push(...(await remoteImportPreflight(options, ports.cloud.connections, signal)));
  request.onFindings?.(plan.findings);
  refuseFindings(plan.findings, `${options.target} import`);
  return plan;
}

/** Copies and shares the cloud would refuse, refused before the first byte (the source region is the import's). */
function checkDistribute(options: ImportOptions, cloud: Pick<CloudPort, 'connections'>): void {
  if (!wantsDistribute(options)) return;
  refuseDistribute(distributeProblems(cloudOf(options.target), { copies: options.copy, share: options.share }, importRegion(options, cloud)));
}
