import { join } from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { FileCheckpointStore, type CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { FileJobStore } from '../jobs/file-job-store.js';
import type { JobStore } from '../jobs/job-store.js';
import type { AgentMetrics } from '../metrics/agent-metrics.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../transfer/upload-checkpoint.js';
import { isEbsCheckpoint, type EbsCheckpoint } from '../ebs/snapshot-checkpoint.js';

/** Where this daemon keeps jobs, upload and EBS snapshot checkpoints, and whether that place answers now (/readyz). */
export interface DaemonStores {
  jobs: JobStore;
  checkpoints: CheckpointStore<UploadCheckpoint>;
  /** The EBS snapshot checkpoints (ClientToken, snapshot id, confirmed blocks) beside them, so a takeover continues the snapshot. */
  ebsCheckpoints: CheckpointStore<EbsCheckpoint>;
  /** Where they are, for the log: the state directory, or the job store's URL without its password. */
  where: string;
  reachable(): boolean;
  close(): Promise<void>;
}

/**
 * The one place that picks the stores: `job_store.url` set, the fleet's shared store on Redis (jobs and
 * transfer checkpoints, upload and EBS, under `job_store.prefix`, docs/fleet.md); empty, this daemon's own under state_dir.
 * BullMQ and ioredis (about 32 MiB of resident memory) load only in the first case.
 */
export async function openDaemonStores(config: AgentConfig, metrics: AgentMetrics): Promise<DaemonStores> {
  const { url, prefix, lease_seconds } = config.job_store;
  if (!url) {
    const jobs = await FileJobStore.open(join(config.state_dir, 'jobs'), metrics.onCheckpointSave('job'));
    const checkpoints = new FileCheckpointStore<UploadCheckpoint>(join(config.state_dir, 'checkpoints'), isUploadCheckpoint, metrics.onCheckpointSave('upload'));
    const ebsCheckpoints = new FileCheckpointStore<EbsCheckpoint>(join(config.state_dir, 'checkpoints'), isEbsCheckpoint);
    return { jobs, checkpoints, ebsCheckpoints, where: config.state_dir, reachable: () => true, close: () => jobs.close() };
  }
  const [{ RedisJobStore }, { RedisCheckpointStore }, { fleetKeys }, { redactUrl }] = await Promise.all([
    import('../fleet/redis-job-store.js'), import('../fleet/redis-checkpoint-store.js'), import('../fleet/fleet-keys.js'), import('../fleet/redis-connection.js'),
  ]);
  const jobs = await RedisJobStore.open({ url, prefix, leaseMs: lease_seconds * 1000 });
  const checkpoints = new RedisCheckpointStore<UploadCheckpoint>(url, fleetKeys(prefix), isUploadCheckpoint, 10_000, metrics.onCheckpointSave('upload'));
  // The ids are apart (ebsCheckpointId hashes an "ebs" tag), as in the one checkpoints directory of state_dir.
  const ebsCheckpoints = new RedisCheckpointStore<EbsCheckpoint>(url, fleetKeys(prefix), isEbsCheckpoint);
  return {
    jobs,
    checkpoints,
    ebsCheckpoints,
    where: `${redactUrl(url)} (prefix ${prefix})`,
    reachable: () => jobs.reachable,
    close: async () => {
      await jobs.close();
      checkpoints.close();
      ebsCheckpoints.close();
    },
  };
}
