import { isVmxferError } from '../core/errors.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import { JOB } from './error-codes.js';
import type { RunContext } from './run-context.js';

/**
 * A job's cloud task (import or export) stays running when the daemon stops (JOB_SHUTDOWN: the next
 * start follows it again) and is cancelled on the cloud for any other abort, a job cancel above all.
 */
export function cancelTaskUnlessShutdown(reason: unknown): boolean {
  return !(isVmxferError(reason) && reason.code === JOB.SHUTDOWN.code);
}

/** Each status of the task counted in the metrics and handed to the job; each retry counted by reason. */
export function jobTaskCallbacks(ctx: RunContext, onCloudTask: (status: CloudTaskStatus) => void) {
  return {
    onStatus: (s: CloudTaskStatus) => {
      ctx.metrics.cloudTaskUpdates.inc({ kind: s.kind, state: s.state });
      onCloudTask(s);
    },
    onRetry: (code: string) => ctx.metrics.retries.inc({ reason: code }),
  };
}
