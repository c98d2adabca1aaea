import type { PartState, PartView } from './job-types.js';

/** S3 and OSS allow at most 10,000 parts: the board never holds more entries than that. */
const MAX_PARTS = 10_000;

/**
 * The state of every part of one job (pending, in-flight, done, skipped, failed) and which of them
 * changed since the feed last asked, so changes can be sent coalesced.
 */
export class PartBoard {
  private readonly states = new Map<number, PartState>();
  private readonly changed = new Set<number>();
  private highest = 0;
  partSize = 0;

  set(n: number, state: PartState, size?: number): void {
    if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS) return;
    if (size !== undefined && size > this.partSize) this.partSize = size;
    // Parts below a reported one that were never reported themselves are still waiting their turn.
    for (let k = this.highest + 1; k < n; k++) if (!this.states.has(k)) this.mark(k, 'pending');
    this.highest = Math.max(this.highest, n);
    this.mark(n, state);
  }

  private mark(n: number, state: PartState): void {
    if (this.states.get(n) === state) return;
    this.states.set(n, state);
    this.changed.add(n);
  }

  list(): PartView[] {
    return [...this.states].sort((a, b) => a[0] - b[0]).map(([n, state]) => ({ n, state }));
  }

  /** Parts that changed since the last call, then forgets them. */
  takeChanges(): PartView[] {
    const out = [...this.changed].sort((a, b) => a - b).map((n) => ({ n, state: this.states.get(n)! }));
    this.changed.clear();
    return out;
  }

  count(state: PartState): number {
    let c = 0;
    for (const s of this.states.values()) if (s === state) c++;
    return c;
  }

  get size(): number {
    return this.states.size;
  }
}
