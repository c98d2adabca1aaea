import type { WorkerPool } from '../pipeline/worker-pool.js';
import type { AgentConfig } from '../config/schema.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { AgentMetrics } from '../metrics/agent-metrics.js';
import type { TokenBucket } from '../sinks/token-bucket.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../sinks/retrying-sink.js';
import type { UploadCheckpoint } from '../transfer/upload-checkpoint.js';
import type { FleetSemaphore } from '../fleet/fleet-semaphore.js';
import type { EbsCheckpoint } from '../ebs/snapshot-checkpoint.js';

/** What every job run shares: the current configuration and the daemon's services. */
export interface RunContext {
  config: AgentConfig;
  checkpoints: CheckpointStore<UploadCheckpoint>;
  /** Where EBS snapshot checkpoints live (the daemon's stores: shared with the fleet on job_store.url); absent: state_dir. */
  ebsCheckpoints?: CheckpointStore<EbsCheckpoint> | undefined;
  metrics: AgentMetrics;
  bandwidth: TokenBucket | undefined;
  /** This agent's name (agent.name): claims carry it, jobs show it; absent for the CLI. */
  agentName?: string | undefined;
  /** The daemon's conversion worker pool, shared by every job. */
  pool?: WorkerPool | undefined;
  /** The fleet's semaphore (fleet-semaphore-factory.ts): cloud task slots and the fleet-wide job cap; absent: this process's. */
  semaphore?: FleetSemaphore | undefined;
}

export { connectionFor } from '../config/store-profiles.js';

/** The retry policy of `transfer.retries`, counting each retry by reason. */
export function retryPolicy(ctx: RunContext): RetryPolicy {
  return {
    ...DEFAULT_RETRY,
    attempts: ctx.config.transfer.retries,
    onRetry: (reason) => ctx.metrics.retries.inc({ reason }),
  };
}

/** Destination key for per-destination limits: store kind, bucket and region. */
export function destinationKey(kind: string, source: string, destination: string, config: AgentConfig): string {
  const url = kind === 'download' ? source : destination;
  const m = /^([a-z0-9]+):\/\/([^/]*)/i.exec(url);
  if (!m) return url;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'file') return 'file://';
  const region = scheme === 'oss' ? config.stores.oss_region : config.stores.s3_region;
  return `${scheme}://${m[2]}@${region || 'default'}`;
}
