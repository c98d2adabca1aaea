import { isVmxferError } from '../../core/errors.js';
import { cloudCodeOfError } from '../cloud-error.js';

export const COPY_STATES = ['copying', 'available', 'failed', 'cancelled'] as const;
export type CopyState = (typeof COPY_STATES)[number];

/** One copy as the job last saw it (docs/api.md Job.cloudOutcome.copies). */
export interface CopyOutcome {
  region: string;
  /** Null when CopyImage itself failed (or was cancelled) before it named the copy. */
  imageId: string | null;
  state: CopyState;
  /** failed / cancelled: the error code (vmxfer's), the cloud's code when it gave one, and the sentence. */
  code?: string | undefined;
  cloudCode?: string | undefined;
  reason?: string | undefined;
}

/**
 * How a copy that threw ended: `cancelled` when the signal's abort stops copies on the cloud (a job
 * cancel), none when it leaves them running (a daemon stop: the next start follows the copy), else
 * `failed`. The cause is the abort reason for a cancel, the copy's own error otherwise.
 */
export function copyEnd(err: unknown, signal: AbortSignal | undefined, cancelOnAbort: ((reason: unknown) => boolean) | undefined): Omit<CopyOutcome, 'region' | 'imageId'> | undefined {
  if (signal?.aborted && cancelOnAbort?.(signal.reason) === false) return undefined;
  const cause = signal?.aborted ? signal.reason : err;
  const why = isVmxferError(cause)
    ? { code: cause.code, cloudCode: cloudCodeOfError(cause), reason: cause.message }
    : { reason: (cause as Error)?.message ?? String(cause) };
  return { state: signal?.aborted ? 'cancelled' : 'failed', ...withoutUndefined(why) };
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
