import type { Job } from './api-types.js';
import { JOB_STATES } from './api-types.js';
import { percentDone } from './format.js';

export const SORT_KEYS = ['createdAt', 'state', 'progress', 'rate', 'eta', 'source', 'destination', 'format'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export interface SortOrder {
  key: SortKey;
  descending: boolean;
}

/** Keys whose value moves with every progress message: a table sorted by one must re-order on progress. */
export const LIVE_KEYS: ReadonlySet<SortKey> = new Set(['progress', 'rate', 'eta']);

function sortValue(job: Job, key: SortKey): string | number {
  switch (key) {
    case 'createdAt':
      return job.createdAt;
    case 'state':
      return JOB_STATES.indexOf(job.state);
    case 'progress':
      return job.state === 'completed' ? 100 : percentDone(job.progress) ?? -1;
    case 'rate':
      return job.progress.rate;
    case 'eta':
      return job.progress.etaSeconds ?? Number.MAX_SAFE_INTEGER;
    default:
      return job[key];
  }
}

/** Sorts by the chosen key, then by id so equal values keep a stable order between frames. */
export function compareJobs(order: SortOrder): (a: Job, b: Job) => number {
  const sign = order.descending ? -1 : 1;
  return (a, b) => {
    const va = sortValue(a, order.key);
    const vb = sortValue(b, order.key);
    if (va < vb) return -sign;
    if (va > vb) return sign;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}
