import { vmxError } from '../core/errors.js';
import { CONFIG } from '../config/error-codes.js';
import type { AgentConfig } from '../config/schema.js';
import type { FleetSemaphore } from './fleet-semaphore.js';
import { processSemaphore } from './fleet-semaphore-local.js';
import { redactUrl } from './redis-connection.js';

/** The shared store's settings the semaphore uses: `job_store` (docs/fleet.md). */
export type SharedStoreSettings = AgentConfig['job_store'];

/**
 * The fleet's semaphore for a configuration: without `job_store.url`, this process's (one agent on its
 * file store); with a redis:// URL, the Redis one under `job_store.prefix`, leases of `job_store.lease_seconds`.
 * ioredis loads only then.
 */
export async function openFleetSemaphore(store: SharedStoreSettings): Promise<FleetSemaphore> {
  if (!store.url) return processSemaphore();
  if (!/^rediss?:\/\//i.test(store.url)) throw vmxError(CONFIG.BAD_VALUE, `key "job_store.url": the fleet's limits need a redis:// or rediss:// URL, got "${redactUrl(store.url)}"`);
  const { RedisFleetSemaphore } = await import('./fleet-semaphore-redis.js');
  return RedisFleetSemaphore.open(store.url, { prefix: store.prefix, leaseMs: store.lease_seconds * 1000 });
}
