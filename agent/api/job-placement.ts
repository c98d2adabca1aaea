import { realpath } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import type { SourceRoot } from '../config/source-roots.js';
import type { JobRequest } from '../jobs/job-types.js';
import { bad } from './body-fields.js';

/** docs/api.md "Submit body": `priority` bounds; higher runs first among queued jobs. */
export const PRIORITY_MIN = -1000;
export const PRIORITY_MAX = 1000;

/** An agent name as `agent.name` takes it (agent/config/schema.ts). */
const AGENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** The agent that takes the submit. `fleet`: other agents run jobs from the same store (a shared job store). */
export interface SubmitAgent {
  name: string;
  fleet: boolean;
}

/** The submit body's `priority` and `agent` (a job's affinity), validated. */
export function parsePlacement(priority: unknown, agent: unknown, here: SubmitAgent): Pick<JobRequest, 'priority' | 'affinity'> {
  const out: Pick<JobRequest, 'priority' | 'affinity'> = {};
  if (priority !== undefined) {
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < PRIORITY_MIN || priority > PRIORITY_MAX) {
      throw bad('priority', `must be an integer from ${PRIORITY_MIN} to ${PRIORITY_MAX}`);
    }
    out.priority = priority;
  }
  if (agent !== undefined) {
    if (typeof agent !== 'string' || !AGENT_NAME.test(agent)) throw bad('agent', 'must be an agent name: 1 to 64 letters, digits, dots, underscores or dashes');
    // Alone, no other agent could ever take the job (it would wait for ever), and this one runs every
    // job anyway: an affinity to itself would only strand the job if agent.name changed.
    if (!here.fleet && agent !== here.name) throw bad('agent', `names another agent, but this daemon runs alone (no job_store.url) as "${here.name}"`);
    if (here.fleet) out.affinity = agent;
  }
  return out;
}

/**
 * The affinity a job gets from where its source lies (issue #15 point 2): with a shared job store, a
 * source below a root that is not shared is on this agent's disk only, so the job waits for this agent.
 * The deepest root holding the source decides (a shared datastore may sit below a local root).
 */
export async function sourceAffinity(spec: JobRequest, roots: readonly SourceRoot[], here: SubmitAgent): Promise<string | undefined> {
  if (!here.fleet || !LOCAL_SOURCE.has(spec.kind)) return undefined;
  const root = await deepestRoot(spec.source, roots);
  return root && !root.shared ? here.name : undefined;
}

/** Kinds whose `source` is a local path (the confined real path); downloads and exports read the cloud. */
const LOCAL_SOURCE: ReadonlySet<JobRequest['kind']> = new Set(['upload', 'convert', 'sync']);

async function deepestRoot(real: string, roots: readonly SourceRoot[]): Promise<SourceRoot | undefined> {
  let best: { root: SourceRoot; depth: number } | undefined;
  for (const root of roots) {
    const r = await realpath(root.path).catch(() => undefined);
    if (r === undefined) continue;
    const rel = relative(r, real);
    if (rel !== '' && (rel === '..' || rel.startsWith('../') || isAbsolute(rel))) continue;
    if (!best || r.length > best.depth) best = { root, depth: r.length };
  }
  return best?.root;
}
