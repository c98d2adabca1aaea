import type { Finding } from '../cloud/preflight/finding.js';
import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import { refuseFindings } from '../cloud/upload-import/refuse-findings.js';
import { exportFindings } from '../workflows/export-preflight.js';
import { STEP } from '../workflows/steps.js';
import { stepsOf } from './record-step-journal.js';
import type { JobRecord } from './job-types.js';
import type { RunContext } from './run-context.js';

/**
 * The preflight of `vmxfer export`, run while an export job validates so that a bucket the cloud could
 * not write fails the job before any task exists: AWS bucket ownership, the VM Import/Export account's
 * grant and SSE-KMS (plus the vmimport role for image exports), OSS storage class and encryption (plus
 * the ECS export role and the image's data disks). Skipped with `export.preflight: false`, and for a job
 * restarted once its task exists. Returns the warnings, which the job shows.
 */
export async function preflightJobExport(job: JobRecord, ctx: RunContext, signal: AbortSignal): Promise<Finding[]> {
  const e = job.export!;
  const steps = stepsOf(job);
  if (e.preflight === false || steps[STEP.exportStarted] || steps[STEP.exported]) return [];
  const findings = await exportFindings(e, connectionsFromConfig(ctx.config), ctx.config.stores.oss_endpoint || undefined, signal);
  refuseFindings(findings, `${e.cloud} export`, 'no export task was created');
  return findings;
}
