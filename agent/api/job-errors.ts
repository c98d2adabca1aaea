import { isVmxferError, vmxError, type ErrorCodeDef } from '../core/errors.js';
import { JOB } from '../jobs/error-codes.js';
import { API } from './error-codes.js';

/** The job service's refusals as the API's codes (docs/api.md keeps them); the message stays. */
const AS_API: ReadonlyMap<string, ErrorCodeDef> = new Map([
  [JOB.NOT_FOUND.code, API.NOT_FOUND],
  [JOB.NOT_CANCELLABLE.code, API.NOT_CANCELLABLE],
  [JOB.NOT_ACCEPTING.code, API.UNAVAILABLE],
  [JOB.NOT_SYNC.code, API.NOT_SYNC],
]);

/** Runs a job-service call, answering its refusals with the API's codes. */
export async function asApi<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const def = isVmxferError(err) ? AS_API.get(err.code) : undefined;
    if (!def) throw err;
    throw vmxError(def, (err as Error).message.replace(/ \[[A-Z0-9_]+\]$/, ''));
  }
}
