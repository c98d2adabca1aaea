import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import { cancelStartedWork } from '../workflows/cancel-started.js';
import type { JobRecord } from './job-types.js';
import { stepsOf } from './record-step-journal.js';
import type { RunContext } from './run-context.js';

/** A cancelled job that is not running (queued after a restart): the cloud work its steps name is cancelled. */
export async function cancelStartedCloudTask(job: JobRecord, ctx: RunContext): Promise<void> {
  if (job.result) return;
  await cancelStartedWork({ import: job.import, export: job.export, steps: stepsOf(job) }, connectionsFromConfig(ctx.config));
}
