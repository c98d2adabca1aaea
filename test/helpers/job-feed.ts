import type { TestDaemon } from './daemon.js';
import { closeFeed, feed } from './feed-socket.js';

/** The daemon's WebSocket feed (docs/api.md "Feed") with every message kept, read job by job. */
export interface JobFeed {
  got: any[];
  /** The `job` messages about one job, in order. */
  jobs(id: string): any[];
  close(): Promise<void>;
}

export async function openFeed(d: TestDaemon): Promise<JobFeed> {
  const { ws, got } = await feed(d);
  return { got, jobs: (id) => got.filter((m) => m.type === 'job' && m.job.id === id).map((m) => m.job), close: () => closeFeed(ws) };
}

/** Consecutive duplicates dropped: the distinct values in the order they were seen. */
export function distinct<T>(values: T[]): T[] {
  return values.filter((v, i) => v !== values[i - 1]);
}
