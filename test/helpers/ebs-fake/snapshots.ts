import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';

export const BLOCK = 512 * 1024;

/** EBS direct APIs error (API reference, "Errors"): HTTP status, x-amzn-ErrorType, Message and Reason. */
export class EbsError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly reason?: string) {
    super(message);
  }
}

export interface FakeSnapshot {
  id: string;
  volumeSize: number;
  parentId?: string | undefined;
  status: 'pending' | 'completed' | 'error';
  statusMessage: string;
  description?: string | undefined;
  tags: Array<{ Key: string; Value: string }>;
  encrypted: boolean;
  kmsKeyArn?: string | undefined;
  timeout: number;
  startTime: number;
  clientToken?: string | undefined;
  /** The StartSnapshot body the token was first used with. */
  request: string;
  /** Blocks this snapshot wrote itself; the others are its parent's. */
  own: Map<number, Buffer>;
  /** DescribeSnapshots answers left with `pending` after CompleteSnapshot. */
  pendingPolls: number;
}

export function sha256b64(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64');
}

export function snapId(): string {
  return `snap-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** The volume a snapshot reads as: its own blocks over its parent's, down the chain. */
export function resolveBlock(all: Map<string, FakeSnapshot>, s: FakeSnapshot, index: number): Buffer | undefined {
  for (let cur: FakeSnapshot | undefined = s; cur; cur = cur.parentId ? all.get(cur.parentId) : undefined) {
    const b = cur.own.get(index);
    if (b) return b;
  }
  return undefined;
}

/** Every block index with data somewhere in the chain, in order (ListSnapshotBlocks). */
export function chainIndexes(all: Map<string, FakeSnapshot>, s: FakeSnapshot): number[] {
  const set = new Set<number>();
  for (let cur: FakeSnapshot | undefined = s; cur; cur = cur.parentId ? all.get(cur.parentId) : undefined) for (const i of cur.own.keys()) set.add(i);
  return [...set].sort((a, b) => a - b);
}

/** CompleteSnapshot LINEAR: SHA-256 over the written blocks' SHA-256s in ascending block index. */
export function linearAggregate(s: FakeSnapshot): string {
  const outer = createHash('sha256');
  for (const i of [...s.own.keys()].sort((a, b) => a - b)) outer.update(createHash('sha256').update(s.own.get(i)!).digest());
  return outer.digest('base64');
}

/** Writes the snapshot's volume (its first `size` bytes) to a sparse file. */
export async function writeVolume(all: Map<string, FakeSnapshot>, s: FakeSnapshot, path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.truncate(size);
    for (const i of chainIndexes(all, s)) {
      if (i * BLOCK >= size) continue;
      const b = resolveBlock(all, s, i)!;
      await fh.write(b, 0, Math.min(BLOCK, size - i * BLOCK), i * BLOCK);
    }
  } finally {
    await fh.close();
  }
}
