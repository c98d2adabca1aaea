import { rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { throwIfAborted } from '../../core/abort.js';
import type { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import { downloadCheckpointId, type DownloadCheckpoint } from '../../transfer/download-checkpoint.js';
import type { ProgressTracker } from '../../core/progress.js';
import type { ObjectSink } from '../../sinks/object-sink.js';
import { checkpointedPartial, headObject, partialPath } from '../../transfer/download.js';
import { fileSha256 } from '../../transfer/tagged-sha256.js';
import { exportedObjectUrl } from '../export-options.js';
import type { ExportedObject } from './export-task.js';
import { dataDiskPath } from './data-disk-path.js';
import { ExportProgress } from './export-progress.js';

/** One disk of an export: the object the cloud wrote and the local file it becomes. */
export interface ExportDisk {
  key: string;
  /** The object as a store URL; the download checkpoint's id is made from it. */
  url: string;
  /** Absolute: DST for the system disk, dataDiskPath(DST, N) for data disk N. */
  destination: string;
}

/** A disk whose file is complete, recorded as soon as it finishes so a restart does not fetch it again. */
export interface FinishedDisk<R> {
  key: string;
  destination: string;
  /** Bytes of the file written (not the object's size when the download converts). */
  fileSize: number;
  /** SHA-256 of the file written. */
  sha256: string;
  /** What the disk's download reported. */
  result: R;
}

/** The system disk's object first, then one per data disk in the order ExportImage reports them. */
export function exportDisks(cloud: 'aws' | 'ecs', exported: ExportedObject, destination: string): ExportDisk[] {
  const keys = [exported.key, ...(exported.dataKeys ?? [])];
  return keys.map((key, i) => ({ key, url: exportedObjectUrl(cloud, exported.bucket, key), destination: resolve(i === 0 ? destination : dataDiskPath(destination, i)) }));
}

export interface DiskDownloads<R extends { objectSize: number }> {
  disks: readonly ExportDisk[];
  /** Disks an earlier run finished; each is kept when its file is still there with the recorded size. */
  finished?: readonly FinishedDisk<R>[] | null | undefined;
  /** Where the objects are: each disk not kept is HEADed before the first byte, for the progress's total. */
  sink: Pick<ObjectSink, 'head'>;
  /** One progress over all the disks (export-progress.ts). */
  progress: ProgressTracker;
  /** One disk's ranged download to `disk.destination` (resumed from its checkpoint when the caller has one), reporting to `progress`. */
  download(disk: ExportDisk, progress: ProgressTracker): Promise<R>;
  /** The written file's SHA-256 when the download knows it (a conversion's output); otherwise the file is read. */
  knownSha256?(result: R): string | null | undefined;
  /** Awaited before the next disk starts: the caller makes the finished disk durable. */
  onFinished?(disk: FinishedDisk<R>): Promise<void> | void;
  signal?: AbortSignal | undefined;
}

/**
 * Downloads an export's disks one after the other, skipping those a previous run finished, and
 * reports each as it finishes. The one loop of the CLI (`vmxfer export`) and of export jobs.
 */
export async function downloadDisks<R extends { objectSize: number }>(p: DiskDownloads<R>): Promise<FinishedDisk<R>[]> {
  const kept = await Promise.all(p.disks.map((disk) => stillThere(p.finished, disk)));
  const sizes: number[] = [];
  for (const [i, disk] of p.disks.entries()) sizes.push(kept[i]?.result.objectSize ?? (await headObject(p.sink, disk.key, disk.url, p.signal)).size);
  const progress = new ExportProgress(p.progress, sizes);
  const out: FinishedDisk<R>[] = [];
  for (const [i, disk] of p.disks.entries()) {
    throwIfAborted(p.signal);
    out.push(kept[i] ?? (await downloadDisk(p, disk, progress.disk(i))));
    progress.finished(i);
  }
  return out;
}

async function stillThere<R>(finished: readonly FinishedDisk<R>[] | null | undefined, disk: ExportDisk): Promise<FinishedDisk<R> | undefined> {
  const f = finished?.find((d) => d.key === disk.key && d.destination === disk.destination);
  if (!f) return undefined;
  const size = await stat(f.destination).then((s) => s.size, () => -1);
  return size === f.fileSize ? f : undefined;
}

async function downloadDisk<R extends { objectSize: number }>(p: DiskDownloads<R>, disk: ExportDisk, progress: ProgressTracker): Promise<FinishedDisk<R>> {
  const result = await p.download(disk, progress);
  try {
    const sha256 = p.knownSha256?.(result) ?? (await fileSha256(disk.destination, 'sha256', p.signal)).slice('sha256:'.length);
    const { size } = await stat(disk.destination);
    const finished = { key: disk.key, destination: disk.destination, fileSize: size, sha256, result };
    await p.onFinished?.(finished);
    return finished;
  } catch (err) {
    // Stopped before the disk was recorded: nothing would name this complete file, so a cancel could not remove it.
    await rm(disk.destination, { force: true });
    throw err;
  }
}

/** A download's leftovers: its partial file(s) (the object's copy, and what a conversion was writing) and its checkpoint. */
export async function discardDownload(url: string, destination: string, converting: boolean, checkpoints: CheckpointStore<DownloadCheckpoint>): Promise<void> {
  const dst = resolve(destination);
  const partial = checkpointedPartial(dst, converting);
  await rm(partial, { force: true });
  await rm(partialPath(dst), { force: true });
  await checkpoints.delete(downloadCheckpointId(url, partial));
}

/**
 * After a cancel: every disk's partial files and checkpoint, and the files of the disks that had
 * finished, so a cancelled export leaves no half set of disks that looks complete.
 */
export async function discardDisks(
  disks: readonly ExportDisk[],
  finished: readonly { destination: string }[],
  converting: boolean,
  checkpoints: CheckpointStore<DownloadCheckpoint>,
): Promise<void> {
  for (const d of disks) await discardDownload(d.url, d.destination, converting, checkpoints);
  for (const f of finished) await rm(f.destination, { force: true });
}
