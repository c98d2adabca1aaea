import { createHash } from 'node:crypto';

/**
 * What a kill -9 leaves of an EBS upload: the ClientToken (saved before StartSnapshot, so a retried start
 * returns the same snapshot), the snapshot once named, and the blocks EBS confirmed as a bitmap.
 */
export interface EbsCheckpoint {
  id: string;
  version: 1;
  kind: 'ebs-snapshot';
  destination: string;
  source: { path: string; size: number; mtimeMs: number };
  volumeSizeGiB: number;
  parentSnapshotId?: string | undefined;
  /** With a change list: its identity (changeListId), so a resume reads the blocks the same list names. */
  changeList?: string | undefined;
  clientToken: string;
  snapshotId?: string | undefined;
  /** Base64 bitmap of the confirmed block indexes (BlockSet). */
  confirmed: string;
  /** CompleteSnapshot answered: only the wait for `completed` is left. */
  completeSent?: boolean | undefined;
  updatedAt: string;
}

export function ebsCheckpointId(sourcePath: string, destination: string): string {
  return createHash('sha256').update(`ebs\0${sourcePath}\0${destination}`).digest('hex').slice(0, 32);
}

export function isEbsCheckpoint(x: unknown): x is EbsCheckpoint {
  const c = x as EbsCheckpoint;
  return (
    typeof c === 'object' && c !== null && c.version === 1 && c.kind === 'ebs-snapshot' && typeof c.id === 'string' &&
    typeof c.destination === 'string' && typeof c.source?.path === 'string' && typeof c.source?.size === 'number' &&
    typeof c.source?.mtimeMs === 'number' && typeof c.volumeSizeGiB === 'number' && typeof c.clientToken === 'string' &&
    (c.snapshotId === undefined || typeof c.snapshotId === 'string') && (c.changeList === undefined || typeof c.changeList === 'string') && typeof c.confirmed === 'string'
  );
}
