import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import type { UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import type { GuestReport } from '../guest/inspector.js';
import { preflightImport } from '../workflows/import-preflight.js';
import type { JobRecord } from './job-types.js';
import type { RunContext } from './run-context.js';
import { stepsOf } from './record-step-journal.js';

/**
 * The job's import preflight (agent/workflows/import-preflight.ts), run while it validates: the upload
 * does not start when it fails. A restarted job's `steps` say what it already passed.
 */
export async function preflightJobImport(job: JobRecord, ctx: RunContext, signal: AbortSignal, onGuest?: (report: GuestReport) => void): Promise<UploadImportPlan | undefined> {
  if (!job.import) return undefined;
  const steps = stepsOf(job);
  return preflightImport(
    { source: job.source, options: job.import, parent: job.options.parent, as: job.format },
    { journal: { read: <T>(name: string) => steps[name] as T | undefined }, cloud: { connections: connectionsFromConfig(ctx.config) }, reporter: { guest: (r) => onGuest?.(r) }, signal },
  );
}
