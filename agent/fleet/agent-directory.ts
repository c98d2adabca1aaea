/**
 * Which agents a fleet has and how each is doing (issue #15 point 5, docs/api.md "Agents"): every
 * agent heartbeats its counts every few seconds; one whose heartbeat expired is `lost`.
 */

/** What an agent says of itself at each heartbeat. */
export interface AgentBeat {
  name: string;
  version: string;
  /** Jobs this agent runs now. */
  runningJobs: number;
  /** Jobs it would still take now (its `jobs.max_concurrent` less the running ones). */
  freeSlots: number;
  state: 'starting' | 'ready' | 'stopping';
}

/** docs/api.md Agent: the last heartbeat of an agent, and `lost` once it expired. */
export interface AgentStatus extends Omit<AgentBeat, 'state'> {
  /** ISO-8601 time of the last heartbeat. */
  lastHeartbeat: string;
  /** `stopped`: it left on a clean stop; `lost`: its heartbeat expired without one. */
  state: AgentBeat['state'] | 'stopped' | 'lost';
}

/** Heartbeat period and how long a heartbeat counts: three missed beats make an agent lost. */
export const HEARTBEAT_MS = 5000;
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_MS;
/** A lost or stopped agent leaves the list a day after its last heartbeat. */
export const FORGET_AFTER_MS = 24 * 3600 * 1000;

export interface AgentDirectory {
  /** True when other agents take jobs from the same store (a shared job store), so a job on a local disk needs affinity. */
  readonly fleet: boolean;
  /** Records the beat; the agent counts as alive for `ttlMs` from now. */
  heartbeat(beat: AgentBeat, ttlMs?: number): Promise<void>;
  /** A clean stop: the agent stays listed as `stopped` until forgotten. */
  leave(name: string): Promise<void>;
  /** Every agent known, by name; lost and stopped ones included, forgotten ones not. */
  list(): Promise<AgentStatus[]>;
  close(): Promise<void>;
}

/** A stored beat with its time, as both implementations keep it. */
export interface StoredBeat extends AgentBeat {
  at: number;
  /** Alive until this time (ms since the epoch); a `stopped` agent left before it. */
  until: number;
  left?: boolean | undefined;
}

/** The status of a stored beat at `now`. */
export function statusOf(b: StoredBeat, now: number): AgentStatus {
  const state: AgentStatus['state'] = b.left ? 'stopped' : now >= b.until ? 'lost' : b.state;
  return { name: b.name, version: b.version, lastHeartbeat: new Date(b.at).toISOString(), runningJobs: b.runningJobs, freeSlots: b.freeSlots, state };
}

export function byName(a: AgentStatus, b: AgentStatus): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
