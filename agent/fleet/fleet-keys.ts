/** Every key the job store writes, under `<job_store.prefix>:` (docs/fleet.md). BullMQ's own keys sit under the same prefix. */
export interface FleetKeys {
  prefix: string;
  /** One job record, JSON. */
  record(id: string): string;
  /** Every job id, scored by creation time. */
  index: string;
  /** The pub/sub channel every record write is published on, inside the write's MULTI. */
  changes: string;
  /** A transfer checkpoint (the upload's id, confirmed parts, identity), JSON. */
  checkpoint(name: string): string;
  /** Every checkpoint name. */
  checkpoints: string;
}

export function fleetKeys(prefix: string): FleetKeys {
  return {
    prefix,
    record: (id) => `${prefix}:job:${id}`,
    index: `${prefix}:jobs`,
    changes: `${prefix}:job-changes`,
    checkpoint: (name) => `${prefix}:checkpoint:${name}`,
    checkpoints: `${prefix}:checkpoints`,
  };
}
