import { isVmxferError } from '../core/errors.js';
import { fieldError, fieldOf } from '../core/field-error.js';
import { bad } from './body-fields.js';
import { parseSubmitBody, type JobRoots, type JobSpec } from './submit-body.js';
import type { SubmitAgent } from './job-placement.js';

/** docs/api.md "Wave submit": at most this many jobs in one `{"jobs": [...]}` body. */
export const MAX_WAVE_JOBS = 500;

/** A body that is a wave (`{"jobs": [...]}`) rather than one job (which has no `jobs` field). */
export function isWave(body: unknown): body is Record<string, unknown> & { jobs: unknown } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'jobs' in body;
}

/**
 * Every job of a wave validated before any is created, so a bad one leaves nothing half-submitted;
 * the error names the job by its index (`jobs[3].source`).
 */
export async function parseWaveBody(body: Record<string, unknown>, roots: JobRoots, here: SubmitAgent): Promise<JobSpec[]> {
  for (const k of Object.keys(body)) if (k !== 'jobs') throw bad(k, 'is not a field of a wave (send {"jobs": [job, ...]})');
  const jobs = body.jobs;
  if (!Array.isArray(jobs) || jobs.length === 0 || jobs.length > MAX_WAVE_JOBS) throw bad('jobs', `must be a list of 1 to ${MAX_WAVE_JOBS} job bodies`);
  const specs: JobSpec[] = [];
  for (const [i, job] of jobs.entries()) {
    try {
      specs.push(await parseSubmitBody(job, roots, here));
    } catch (err) {
      throw atIndex(err, i);
    }
  }
  return specs;
}

/** The same error, its field and message prefixed with the job's place in the wave. */
function atIndex(err: unknown, i: number): unknown {
  const field = fieldOf(err);
  if (!isVmxferError(err) || field === undefined) return err;
  const def = { code: err.code, category: err.category, summary: '' };
  const sentence = err.message.replace(/ \[[A-Z0-9_]+\]$/, '').replace(`${field}: `, '');
  return field === 'body' ? fieldError(def, `jobs[${i}]`, sentence) : fieldError(def, `jobs[${i}].${field}`, sentence);
}

