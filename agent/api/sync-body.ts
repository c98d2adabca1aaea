import { parseDuration } from '../cli/duration.js';
import type { JobSync } from '../jobs/job-types.js';
import { bad, obj, str } from './body-fields.js';

/** docs/api.md "Sync jobs": `sync: {every?, passes?, cutover?}`; `every` at least a minute would be a guess, so 1 s is the floor. */
export function parseSyncBody(raw: unknown): JobSync {
  const s = obj(raw, 'sync');
  for (const k of Object.keys(s)) if (!['every', 'passes', 'cutover'].includes(k)) throw bad(`sync.${k}`, 'is not a sync field');
  const out: JobSync = { cutover: false };
  if (s.every !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(str(s.every, 'sync.every'), 'sync.every');
    } catch {
      throw bad('sync.every', 'must be a duration such as 90s, 30m or 1h');
    }
    if (ms < 1000) throw bad('sync.every', 'must be at least 1s');
    out.everyMs = ms;
  }
  if (s.passes !== undefined) {
    if (typeof s.passes !== 'number' || !Number.isInteger(s.passes) || s.passes < 1) throw bad('sync.passes', 'must be a positive integer');
    out.passes = s.passes;
  }
  if (s.cutover !== undefined) {
    if (typeof s.cutover !== 'boolean') throw bad('sync.cutover', 'must be true or false');
    out.cutover = s.cutover;
  }
  if (out.cutover && (out.everyMs !== undefined || out.passes !== undefined)) throw bad('sync', 'cutover is the one final pass: it takes neither every nor passes');
  return out;
}
