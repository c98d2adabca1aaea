import type { AgentConfig } from '../config/schema.js';
import type { FleetSemaphore } from './fleet-semaphore.js';
import { processSemaphore } from './fleet-semaphore-local.js';

/** The shared store's settings the semaphore uses: `job_store` (docs/fleet.md). */
export type SharedStoreSettings = AgentConfig['job_store'];

/**
 * The fleet's semaphore for a configuration: without `job_store.url`, this process's (one agent on its
 * file store); with a redis:// URL, the Redis one under `job_store.prefix`, leases of `job_store.lease_seconds`.
 * ioredis loads only then; the URL is checked where the connection opens (FLEET_STORE_URL).
 */
export async function openFleetSemaphore(store: SharedStoreSettings): Promise<FleetSemaphore> {
  if (!store.url) return processSemaphore();
  const { RedisFleetSemaphore } = await import('./fleet-semaphore-redis.js');
  return RedisFleetSemaphore.open(store.url, { prefix: store.prefix, leaseMs: store.lease_seconds * 1000 });
}
