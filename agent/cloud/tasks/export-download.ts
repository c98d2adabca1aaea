import { ProgressTracker } from '../../core/progress.js';
import type { ObjectSink } from '../../sinks/object-sink.js';
import { downloadObject, type DownloadResult } from '../../transfer/download.js';
import type { ExportCommon, ExportResult } from './export-types.js';
import type { ExportedObject } from './export-task.js';
import { discardDisks, downloadDisks, exportDisks, type ExportDisk, type FinishedDisk } from './export-disks.js';

/**
 * The objects an export wrote (an ECS image's data disks beside the system disk's, export-disks.ts), each
 * fetched with the transfer engine's ranged, verified and resumable download (agent/transfer/download.ts)
 * through the bucket's ObjectSink (retrying, as openSink builds it), converted on the way when `to` names
 * a target (the same path as `vmxfer download --to`). An abort (Ctrl-C cancels the export) removes every
 * disk's partial file and checkpoint and the disks already written: the CLI has no resume of an export.
 */
export async function downloadExported(cloud: 'aws' | 'ecs', done: ExportedObject, sink: ObjectSink, p: ExportCommon, signal?: AbortSignal): Promise<ExportResult> {
  const disks = exportDisks(cloud, done, p.destination);
  const written: FinishedDisk<DownloadResult>[] = [];
  try {
    await downloadDisks({
      disks,
      sink,
      progress: p.progress ?? new ProgressTracker(),
      download: (disk, progress) => downloadOne(disk, sink, p, progress, signal),
      knownSha256: (r) => r.conversion?.outputSha256 ?? r.sha256Verified,
      onFinished: (d) => void written.push(d),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) await discardDisks(disks, written, p.to !== undefined, p.checkpoints);
    throw err;
  }
  return exportResult(done, written);
}

/** What an export reports: the system disk's download and its file's SHA-256, the task and its object, each data disk. */
export function exportResult(done: ExportedObject, disks: readonly FinishedDisk<DownloadResult>[]): ExportResult {
  const [system, ...data] = disks;
  const dataDisks = data.map((d) => ({ ...d.result, key: d.key, sha256: d.sha256 }));
  return { ...system!.result, sha256: system!.sha256, taskId: done.taskId, bucket: done.bucket, key: done.key, ...(dataDisks.length ? { dataDisks } : {}) };
}

function downloadOne(disk: ExportDisk, sink: ObjectSink, p: ExportCommon, progress: ProgressTracker, signal?: AbortSignal): Promise<DownloadResult> {
  return downloadObject({
    url: disk.url,
    key: disk.key,
    sink,
    destination: disk.destination,
    to: p.to,
    disk: p.disk,
    concurrency: p.concurrency ?? 4,
    resume: p.resume ?? false,
    checkpoints: p.checkpoints,
    rangeSize: p.partSize,
    signal,
    progress,
  });
}
