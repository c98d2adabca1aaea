import type { StepJournal } from './ports.js';

/** The CLI's journal: one run of one command; the transfer's own checkpoints carry a restart. */
export class MemoryJournal implements StepJournal {
  private readonly steps = new Map<string, unknown>();

  constructor(initial: Record<string, unknown> = {}) {
    for (const [k, v] of Object.entries(initial)) this.steps.set(k, v);
  }

  async once<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.steps.has(name)) return this.steps.get(name) as T;
    const value = await fn();
    this.steps.set(name, value);
    return value;
  }

  async note(name: string, value: unknown): Promise<void> {
    this.steps.set(name, value);
  }

  read<T>(name: string): T | undefined {
    return this.steps.get(name) as T | undefined;
  }

  /** What the journal holds: a test hands it to a second run as a restarted process would find it. */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries(this.steps);
  }
}
