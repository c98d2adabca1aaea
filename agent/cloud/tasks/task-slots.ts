import { DEFAULTS, type CloudTaskCaps } from '../../config/schema.js';
import type { FleetSemaphore } from '../../fleet/fleet-semaphore.js';
import { processSemaphore } from '../../fleet/fleet-semaphore-local.js';

/** Where cloud tasks take their slots: the fleet's semaphore, the configured caps, and who holds (job and agent). */
export interface TaskSlots {
  semaphore: FleetSemaphore;
  caps: CloudTaskCaps;
  holder: string;
}

/**
 * What one kind of cloud task holds while it runs, declared by the cloud implementation that starts it:
 * the semaphore key `cloud:<cloud>:<region>:<task>` and the cap that `fleet.cloud_tasks` gives it.
 */
export interface TaskSlotKind {
  cloud: 'aws' | 'ecs';
  task: string;
  /** The `fleet.cloud_tasks` key of the cap (0 = none). */
  cap: keyof CloudTaskCaps;
}

export interface TaskSlot {
  key: string;
  limit: number;
  /** The sentence a waiting task reports. */
  waiting: string;
}

export function taskSlot(kind: TaskSlotKind, region: string, caps: CloudTaskCaps): TaskSlot {
  const limit = caps[kind.cap];
  return { key: `cloud:${kind.cloud}:${region}:${kind.task}`, limit, waiting: `waiting for a ${kind.task} slot in ${region}: ${limit} running across the fleet (fleet.cloud_tasks.${kind.cap})` };
}

/** Without a job service or command (a library call): the process's semaphore with the default caps. */
export function defaultTaskSlots(): TaskSlots {
  return { semaphore: processSemaphore(), caps: DEFAULTS.fleet.cloud_tasks, holder: `pid ${process.pid}` };
}

/**
 * Runs `fn` (a task's start and its following to the end) holding a slot: when the slot is taken,
 * `onWaiting` says so once, and an abort while waiting rejects without starting anything. No cap: `fn` at once.
 */
export async function withTaskSlot<T>(slots: TaskSlots, slot: TaskSlot, fn: () => Promise<T>, onWaiting: (sentence: string) => void, signal?: AbortSignal): Promise<T> {
  if (slot.limit <= 0) return fn();
  const lease = await slots.semaphore.acquire(slot.key, slot.limit, slots.holder, signal, { onWaiting: () => onWaiting(slot.waiting) });
  try {
    return await fn();
  } finally {
    // A release the store does not take (unreachable) lapses with the lease instead.
    await lease.release().catch(() => undefined);
  }
}
