import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { vmxError } from '../core/errors.js';
import { TRANSFER } from '../transfer/error-codes.js';
import { fsError } from '../io/random-access-file.js';
import { openDisk } from '../formats/detect.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { AwsConnection } from '../cloud/aws/aws-clients.js';
import { pollTask, type PollPolicy } from '../cloud/poll-task.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import { LinearSha256 } from '../hashing/linear-sha256.js';
import { BlockSet } from './block-set.js';
import { BlockSender, CoalescedSave } from './block-sender.js';
import { diskBlocks, EBS_BLOCK } from './disk-blocks.js';
import { blockDigest, EbsApi, type StartSnapshotParams } from './ebs-api.js';
import { parseEbsUrl } from './ebs-url.js';
import { EBS } from './error-codes.js';
import { ebsCheckpointId, type EbsCheckpoint } from './snapshot-checkpoint.js';
import { changedDiskBlocks } from './changed-blocks.js';
import type { DiskBlock } from './disk-blocks.js';
import type { ChangedExtentList } from '../incremental/changed-blocks/extent-list.js';
import { changeListId } from '../incremental/changed-checkpoint.js';
import { INCR } from '../incremental/error-codes.js';
import { openRandomReader } from '../incremental/random-reader.js';

const GiB = 1024 ** 3;
/** StartSnapshot VolumeSize: "The size of the volume, in GiB. The maximum size is 65536 GiB (64 TiB)." */
const MAX_VOLUME_GIB = 65_536;
const ZERO = Buffer.alloc(EBS_BLOCK);

export interface EbsUploadRequest {
  source: string;
  /** ebs://REGION[/PARENT-SNAPSHOT-ID] as given (part of the checkpoint identity). */
  destination: string;
  from?: string | undefined;
  parent?: string | undefined;
  /** Credentials, endpoint and retry policy; the region is the destination's. */
  connection: Omit<AwsConnection, 'region'>;
  concurrency: number;
  /** true: continue the checkpoint's snapshot; false: refused over a checkpoint; 'restart': start a new snapshot. */
  resume: boolean | 'restart';
  snapshot: Pick<StartSnapshotParams, 'description' | 'tags' | 'encrypted' | 'kmsKeyArn' | 'timeoutMinutes'>;
  /**
   * The ranges written since the parent snapshot's source state (docs/warm-migration.md "Changed-block
   * inputs"): only the blocks they touch are read and written; every other block is the parent's.
   */
  changed?: ChangedExtentList | undefined;
  checkpoints: CheckpointStore<EbsCheckpoint>;
  poll: PollPolicy;
  onNote?: ((sentence: string) => void) | undefined;
  onStatus?: ((s: CloudTaskStatus) => void) | undefined;
  onRetry?: ((code: string, attempt: number) => void) | undefined;
  /** Called right before CompleteSnapshot; throwing leaves the snapshot pending and the checkpoint kept (WorkflowPorts.fence). */
  beforeComplete?: (() => Promise<void>) | undefined;
  signal: AbortSignal;
}

export interface EbsUploadResult {
  snapshotId: string;
  parentSnapshotId?: string | undefined;
  region: string;
  volumeSizeGiB: number;
  /** Blocks of the volume (VolumeSize / 512 KiB). */
  blocks: number;
  /** CompleteSnapshot ChangedBlocksCount: every block the snapshot holds of its own. */
  blocksWritten: number;
  /** PutSnapshotBlock requests this run confirmed. */
  blocksSent: number;
  /** Written blocks an earlier, interrupted run had confirmed: not sent again. */
  blocksResumed: number;
  /** Zero blocks not written (holes, zero extents, all-zero data). */
  zeroBlocksSkipped: number;
  /** Zero blocks written anyway because the parent holds data there. */
  zeroBlocksWritten: number;
  bytesSent: number;
  /** The LINEAR aggregate checksum CompleteSnapshot was given (Base64 SHA-256). */
  checksum: string;
  /** With a change list: the 512 KiB blocks of the source read (only those the list touches); absent otherwise. */
  blocksRead?: number | undefined;
  /** A snapshot of an earlier run that had expired or failed, replaced by this one. */
  replacedSnapshotId?: string | undefined;
  seconds: number;
}

interface Plan {
  api: EbsApi;
  volumeSizeGiB: number;
  parent: BlockSet | undefined;
  cp: EbsCheckpoint;
  confirmed: BlockSet;
  replaced?: string | undefined;
}

/**
 * Writes SRC into a new EBS snapshot with the EBS direct APIs ("Use EBS direct APIs to write a
 * snapshot"): StartSnapshot, PutSnapshotBlock for each block that is not zero — and for each zero block
 * the parent holds data in, so the incremental snapshot reads as the source —, CompleteSnapshot with the
 * written-block count and the LINEAR aggregate checksum, then EC2 DescribeSnapshots until `completed`.
 * A checkpoint keeps the ClientToken, the snapshot id and the confirmed blocks for --resume.
 */
export async function uploadToEbs(req: EbsUploadRequest): Promise<EbsUploadResult> {
  const started = performance.now();
  const target = parseEbsUrl(req.destination);
  const info = await stat(req.source).catch((err: unknown) => {
    throw fsError(err, req.source);
  });
  if (req.changed && !target.parentSnapshotId) {
    throw vmxError(EBS.CHANGED_NO_PARENT, `a change list names the blocks written since a parent snapshot, and ${req.destination} names none (ebs://REGION/snap-PARENT)`, { file: req.source });
  }
  const disk = await openBlocks(req);
  try {
    const volumeSizeGiB = Math.max(1, Math.ceil(disk.virtualSize / GiB));
    if (volumeSizeGiB > MAX_VOLUME_GIB) throw vmxError(EBS.VOLUME_TOO_LARGE, `${req.source} is ${volumeSizeGiB} GiB; an EBS snapshot holds at most ${MAX_VOLUME_GIB} GiB`, { file: req.source });
    const api = new EbsApi({ ...req.connection, region: target.region, retry: req.connection.retry && req.onRetry ? { ...req.connection.retry, onRetry: req.onRetry } : req.connection.retry });
    const parent = target.parentSnapshotId ? await parentBlocks(api, target.parentSnapshotId, volumeSizeGiB, req) : undefined;
    const plan = await prepare(req, api, { path: req.source, size: info.size, mtimeMs: info.mtimeMs }, volumeSizeGiB, target.parentSnapshotId, parent);
    const save = new CoalescedSave(() => req.checkpoints.save({ ...plan.cp, confirmed: plan.confirmed.toBase64(), updatedAt: new Date().toISOString() }));
    if (!plan.cp.snapshotId) {
      plan.cp.snapshotId = await api.start({ ...req.snapshot, volumeSizeGiB, parentSnapshotId: target.parentSnapshotId, clientToken: plan.cp.clientToken }, req.signal);
      await save.flush();
    }
    const counts = await writeBlocks(req, plan, disk, save);
    const snapshotId = plan.cp.snapshotId;
    if (!plan.cp.completeSent) {
      await req.beforeComplete?.();
      await api.complete(snapshotId, counts.blocksWritten, counts.checksum, req.signal);
      plan.cp.completeSent = true;
      await save.flush();
    }
    await waitCompleted(api, snapshotId, req);
    await req.checkpoints.delete(plan.cp.id);
    return {
      snapshotId, parentSnapshotId: target.parentSnapshotId, region: target.region, volumeSizeGiB, blocks: plan.confirmed.blocks,
      ...counts, blocksRead: disk.blocksRead(), replacedSnapshotId: plan.replaced, seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await disk.close();
  }
}

/** The source's blocks to consider: every block of the disk, or with a change list only those it touches. */
interface BlockSource {
  virtualSize: number;
  blocks(signal: AbortSignal): AsyncIterable<DiskBlock>;
  /** Blocks read at random for a change list; undefined for a whole-disk pass. */
  blocksRead(): number | undefined;
  close(): Promise<void>;
}

async function openBlocks(req: EbsUploadRequest): Promise<BlockSource> {
  const list = req.changed;
  if (!list) {
    const disk = await openDisk(req.source, { format: req.from, parent: req.parent, signal: req.signal });
    return { virtualSize: disk.virtualSize, blocks: (signal) => diskBlocks(disk, signal), blocksRead: () => undefined, close: () => disk.close() };
  }
  const reader = await openRandomReader(req.source, req.from, req.signal);
  if (list.virtualSize !== reader.size) {
    await reader.close();
    throw vmxError(INCR.CHANGED_MISMATCH, `the change list describes a disk of ${list.virtualSize} bytes and the source has ${reader.size}: the list is not relative to this disk`, { file: req.source });
  }
  const counts = { blocksRead: 0 };
  return { virtualSize: reader.size, blocks: (signal) => changedDiskBlocks(reader, list, counts, signal), blocksRead: () => counts.blocksRead, close: () => reader.close() };
}

async function parentBlocks(api: EbsApi, parentId: string, volumeSizeGiB: number, req: EbsUploadRequest): Promise<BlockSet> {
  const p = await api.blocks(parentId, req.signal);
  if (p.volumeSizeGiB > volumeSizeGiB) {
    throw vmxError(EBS.PARENT_LARGER, `the parent snapshot ${parentId} is a ${p.volumeSizeGiB} GiB volume and ${req.source} makes ${volumeSizeGiB} GiB: a snapshot cannot be smaller than its parent`, { file: req.source });
  }
  return p.blocks;
}

/** The checkpoint to go on from, or a new one (saved before StartSnapshot: its ClientToken makes the start idempotent). */
async function prepare(req: EbsUploadRequest, api: EbsApi, source: EbsCheckpoint['source'], volumeSizeGiB: number, parentSnapshotId: string | undefined, parent: BlockSet | undefined): Promise<Omit<Plan, 'api' | 'volumeSizeGiB' | 'parent'> & Pick<Plan, 'api' | 'volumeSizeGiB' | 'parent'>> {
  const id = ebsCheckpointId(req.source, req.destination);
  const blocks = (volumeSizeGiB * GiB) / EBS_BLOCK;
  const changeList = req.changed ? changeListId(req.changed) : undefined;
  const old = await req.checkpoints.load(id);
  if (old && req.resume === false) {
    throw vmxError(TRANSFER.CHECKPOINT_EXISTS, `an interrupted EBS upload of ${req.source} -> ${req.destination} (snapshot ${old.snapshotId ?? 'not yet started'}) has a checkpoint: continue it with --resume or start a new snapshot with --restart`);
  }
  if (!old && req.resume === true) throw vmxError(TRANSFER.NO_CHECKPOINT, `no checkpoint for ${req.source} -> ${req.destination}; start without --resume`);
  const base = { api, volumeSizeGiB, parent };
  const fresh = async (replaced?: string) => {
    const cp: EbsCheckpoint = { id, version: 1, kind: 'ebs-snapshot', destination: req.destination, source, volumeSizeGiB, parentSnapshotId, changeList, clientToken: randomUUID(), confirmed: '', updatedAt: new Date().toISOString() };
    const confirmed = new BlockSet(blocks);
    await req.checkpoints.save({ ...cp, confirmed: confirmed.toBase64() });
    return { ...base, cp, confirmed, replaced };
  };
  if (!old) return fresh();
  if (req.resume === 'restart') {
    req.onNote?.(`checkpoint of snapshot ${old.snapshotId ?? '(not started)'} abandoned (--restart); EBS cancels a pending snapshot after its timeout`);
    return fresh();
  }
  if (old.source.size !== source.size || old.source.mtimeMs !== source.mtimeMs || old.volumeSizeGiB !== volumeSizeGiB || old.parentSnapshotId !== parentSnapshotId) {
    throw vmxError(TRANSFER.RESUME_MISMATCH, `the source changed since the EBS upload started (size/mtime ${old.source.size}/${old.source.mtimeMs} now ${source.size}/${source.mtimeMs}); start again with --restart`, { file: req.source });
  }
  if (old.changeList !== changeList) {
    // The blocks the checkpoint confirmed were chosen by another list (or by reading the whole disk).
    const what = (l: string | undefined) => (l ? `change list ${l.slice(0, 12)}` : 'the whole disk');
    throw vmxError(TRANSFER.RESUME_MISMATCH, `the interrupted EBS upload read ${what(old.changeList)}, this one ${what(changeList)}; resume with the same list or start again with --restart`, { file: req.source });
  }
  const confirmed = BlockSet.fromBase64(blocks, old.confirmed);
  if (!confirmed) throw vmxError(TRANSFER.CHECKPOINT_CORRUPT, `the checkpoint's block bitmap does not fit a ${volumeSizeGiB} GiB volume`);
  if (old.snapshotId) {
    const s = await api.state(old.snapshotId, req.signal);
    if (!s || s.state === 'error') {
      req.onNote?.(`snapshot ${old.snapshotId} of the interrupted upload ${s ? `is in the error state${s.message ? ` (${s.message})` : ''}` : 'no longer exists'} (a pending snapshot is cancelled after its timeout without writes); starting a new snapshot`);
      return fresh(old.snapshotId);
    }
  }
  return { ...base, cp: old, confirmed };
}

type WriteCounts = Pick<EbsUploadResult, 'blocksWritten' | 'blocksSent' | 'blocksResumed' | 'zeroBlocksSkipped' | 'zeroBlocksWritten' | 'bytesSent' | 'checksum'>;

/**
 * Reads the source once in block order: each block to write is hashed once, its digest goes into the
 * LINEAR aggregate in index order ("arrange the checksums for each written block in ascending order of
 * their block index", CompleteSnapshot) and, unless a checkpoint confirmed it, into a PutSnapshotBlock.
 */
async function writeBlocks(req: EbsUploadRequest, plan: Plan, source: BlockSource, save: CoalescedSave): Promise<WriteCounts> {
  const c: WriteCounts = { blocksWritten: 0, blocksSent: 0, blocksResumed: 0, zeroBlocksSkipped: 0, zeroBlocksWritten: 0, bytesSent: 0, checksum: '' };
  const aggregate = new LinearSha256();
  const sender = new BlockSender(req.concurrency, req.signal);
  const snapshotId = plan.cp.snapshotId!;
  const total = plan.confirmed.blocks;
  const write = async (index: number, data: Buffer, digest: Buffer) => {
    aggregate.blockDigest(digest);
    c.blocksWritten++;
    if (plan.cp.completeSent || plan.confirmed.has(index)) {
      c.blocksResumed++;
      return;
    }
    await sender.add(async (signal) => {
      await plan.api.put(snapshotId, index, data, digest.toString('base64'), Math.min(100, Math.floor((index * 100) / total)), signal);
      plan.confirmed.add(index);
      c.blocksSent++;
      c.bytesSent += data.length;
      save.request();
    });
  };
  const zeroDigest = blockDigest(ZERO);
  try {
    for await (const b of source.blocks(sender.signal)) {
      if (b.kind === 'data') {
        await write(b.index, b.data, blockDigest(b.data));
        continue;
      }
      c.zeroBlocksSkipped += b.count;
      // A zero block over parent data must be written: the child inherits every block it does not write.
      for (const i of plan.parent?.within(b.index, b.count) ?? []) {
        c.zeroBlocksSkipped--;
        c.zeroBlocksWritten++;
        await write(i, ZERO, zeroDigest);
      }
    }
    await sender.drain();
  } catch (err) {
    // Ctrl-C, SIGTERM or a failed block: every block confirmed so far goes into the checkpoint first.
    await sender.settle();
    await save.flush().catch(() => undefined);
    throw err;
  }
  await save.flush();
  c.checksum = Buffer.from(aggregate.digest(), 'hex').toString('base64');
  return c;
}

/** EC2 DescribeSnapshots until the snapshot is `completed`; `error` is EBS_SNAPSHOT_FAILED. */
async function waitCompleted(api: EbsApi, snapshotId: string, req: EbsUploadRequest): Promise<void> {
  await pollTask(async () => {
    const s = await api.state(snapshotId, req.signal);
    if (s?.state === 'error') throw vmxError(EBS.SNAPSHOT_FAILED, `snapshot ${snapshotId} ended in the error state after CompleteSnapshot${s.message ? `: ${s.message}` : ''}`);
    const state = s?.state ?? 'pending';
    return { status: { kind: 'aws-snapshot', id: snapshotId, state, message: s?.message ?? '', progress: s?.progress }, verdict: state === 'completed' ? 'succeeded' : 'running', raw: undefined };
  }, req.poll, { onStatus: req.onStatus }, req.signal);
}
