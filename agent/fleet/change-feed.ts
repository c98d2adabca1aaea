import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobChange } from '../jobs/job-store.js';
import { openRedis, whenReady } from './redis-connection.js';

/** What a write publishes: the change, tagged by its writer so the writer sees its own come back. */
interface Published {
  tag: string;
  change: JobChange;
}

/** How long a writer waits for its own change to come back before it resolves anyway (a message lost in a reconnect). */
const ECHO_TIMEOUT_MS = 2000;

/**
 * The store's change stream: one subscriber connection on the changes channel, on which Redis
 * delivers every agent's published writes in the order it executed them. A write resolves once its
 * own message came back, so a listener has seen the change before the writer's promise resolves
 * (as FileJobStore announces before it resolves).
 */
export class ChangeFeed {
  private readonly listeners = new Set<(change: JobChange) => void>();
  private readonly echoes = new Map<string, () => void>();

  private constructor(private readonly sub: Redis) {}

  static async open(url: string, channel: string, readyTimeoutMs: number): Promise<ChangeFeed> {
    const sub = openRedis(url, 'subscriber', 'vmxfer-changes');
    const feed = new ChangeFeed(sub);
    sub.on('message', (ch: string, raw: string) => ch === channel && feed.deliver(raw));
    await whenReady(sub, url, readyTimeoutMs);
    await sub.subscribe(channel);
    return feed;
  }

  /** A new tag for a write, and the promise of its message coming back (call before EXEC). */
  expect(): { tag: string; echoed: Promise<void>; forget(): void } {
    const tag = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const echoed = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ECHO_TIMEOUT_MS);
      this.echoes.set(tag, resolve);
    }).finally(() => {
      clearTimeout(timer);
      this.echoes.delete(tag);
    });
    return { tag, echoed, forget: () => this.echoes.get(tag)?.() };
  }

  message(tag: string, change: JobChange): string {
    return JSON.stringify({ tag, change } satisfies Published);
  }

  subscribe(listener: (change: JobChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener as if the store had published it (the engine's news of a lost lease). */
  announce(change: JobChange): void {
    for (const l of [...this.listeners]) l(structuredClone(change));
  }

  get connected(): boolean {
    return this.sub.status === 'ready';
  }

  close(): void {
    this.sub.disconnect();
    for (const resolve of [...this.echoes.values()]) resolve();
  }

  private deliver(raw: string): void {
    let msg: Published;
    try {
      msg = JSON.parse(raw) as Published;
    } catch {
      return;
    }
    this.announce(msg.change);
    this.echoes.get(msg.tag)?.();
  }
}
