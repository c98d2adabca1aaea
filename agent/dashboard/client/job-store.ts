import type { FeedMessage, Job, Progress } from './api-types.js';
import { isStaleReply } from './stale-reply.js';

export type JobChange = { kind: 'all' } | { kind: 'job'; id: string; stateChanged: boolean };

/** The jobs the page knows, kept current from the feed (jobs here never carry parts). */
export class JobStore {
  private readonly jobs = new Map<string, Job>();
  private readonly listeners: Array<(change: JobChange) => void> = [];

  onChange(listener: (change: JobChange) => void): void {
    this.listeners.push(listener);
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  all(): Job[] {
    return [...this.jobs.values()];
  }

  get size(): number {
    return this.jobs.size;
  }

  apply(message: FeedMessage): void {
    switch (message.type) {
      case 'snapshot':
        return this.replaceAll(message.jobs);
      case 'job':
        return this.upsert(message.job);
      case 'progress':
        return this.updateProgress(message.id, message.progress);
      case 'parts':
      case 'agents':
        return; // parts belong to the open job view, agents to the agents table, not to the list
    }
  }

  /** A job the page itself received from the API (submit, cancel): kept unless the feed already went further. */
  acceptReply(job: Job): void {
    if (!isStaleReply(this.jobs.get(job.id), job)) this.upsert(job);
  }

  private upsert(job: Job): void {
    const { parts: _parts, throughput: _throughput, ...summary } = job;
    const before = this.jobs.get(job.id);
    this.jobs.set(job.id, summary);
    this.emit({ kind: 'job', id: job.id, stateChanged: before?.state !== job.state });
  }

  private replaceAll(jobs: Job[]): void {
    this.jobs.clear();
    for (const job of jobs) this.jobs.set(job.id, job);
    this.emit({ kind: 'all' });
  }

  private updateProgress(id: string, progress: Progress): void {
    const job = this.jobs.get(id);
    if (!job) return; // a "job" message for it will follow
    job.progress = progress;
    this.emit({ kind: 'job', id, stateChanged: false });
  }

  private emit(change: JobChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
