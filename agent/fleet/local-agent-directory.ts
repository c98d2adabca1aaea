import { byName, FORGET_AFTER_MS, HEARTBEAT_TTL_MS, statusOf, type AgentBeat, type AgentDirectory, type AgentStatus, type StoredBeat } from './agent-directory.js';

/** The directory of a daemon on the embedded file store: it runs alone, so it knows only itself. */
export class LocalAgentDirectory implements AgentDirectory {
  readonly fleet = false;
  private readonly beats = new Map<string, StoredBeat>();

  async heartbeat(beat: AgentBeat, ttlMs = HEARTBEAT_TTL_MS): Promise<void> {
    const at = Date.now();
    this.beats.set(beat.name, { ...beat, at, until: at + ttlMs });
  }

  async leave(name: string): Promise<void> {
    const b = this.beats.get(name);
    if (b) this.beats.set(name, { ...b, left: true });
  }

  async list(): Promise<AgentStatus[]> {
    const now = Date.now();
    for (const [name, b] of this.beats) if (now - b.at > FORGET_AFTER_MS) this.beats.delete(name);
    return [...this.beats.values()].map((b) => statusOf(b, now)).sort(byName);
  }

  async close(): Promise<void> {}
}
