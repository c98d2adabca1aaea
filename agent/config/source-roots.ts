/**
 * A directory jobs may read below. `shared`: every agent of a fleet sees the same files at this path
 * (a datastore mounted on each), so any agent may run a job reading it; a root that is not shared is
 * this agent's own disk, and a job reading it waits for this agent (issue #15 point 2, docs/fleet.md).
 */
export interface SourceRoot {
  path: string;
  shared: boolean;
}

/**
 * `source_roots`: a non-empty list whose entries are a path (not shared) or `{ path, shared }`; the
 * environment's comma-separated string gives plain paths. Throws a sentence naming the bad entry.
 */
export function parseSourceRoots(v: unknown): SourceRoot[] {
  const list = v === null ? [] : typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
  if (!Array.isArray(list) || list.length === 0) throw new Error('must be a non-empty list of paths or { path, shared } entries');
  return list.map((entry, i) => sourceRoot(entry, i));
}

function sourceRoot(entry: unknown, i: number): SourceRoot {
  if (typeof entry === 'string') {
    if (entry.trim() === '') throw new Error(`entry ${i} must be a non-empty path`);
    return { path: entry, shared: false };
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`entry ${i} must be a path or { path, shared }`);
  const e = entry as Record<string, unknown>;
  const stray = Object.keys(e).find((k) => k !== 'path' && k !== 'shared');
  if (stray !== undefined) throw new Error(`entry ${i} has an unknown key "${stray}" (known: path, shared)`);
  if (typeof e.path !== 'string' || e.path.trim() === '') throw new Error(`entry ${i} needs a non-empty "path"`);
  if (e.shared !== undefined && typeof e.shared !== 'boolean') throw new Error(`entry ${i}: "shared" must be true or false`);
  return { path: e.path, shared: e.shared === true };
}

/** The roots' paths, for confinement (agent/roots/confine-path.ts). */
export function rootPaths(roots: readonly SourceRoot[]): string[] {
  return roots.map((r) => r.path);
}
