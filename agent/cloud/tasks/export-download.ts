import type { ObjectSink } from '../../sinks/object-sink.js';
import { downloadObject } from '../../transfer/download.js';
import { exportedObjectUrl } from '../export-options.js';
import type { ExportCommon, ExportResult } from './export-types.js';
import type { ExportedObject } from './export-task.js';
import { dataDiskPath } from './data-disk-path.js';

/**
 * The object an export wrote, fetched with the transfer engine's ranged, verified and resumable
 * download (agent/transfer/download.ts) through the bucket's ObjectSink (retrying, as openSink builds it),
 * converted on the way when `to` names a target (the same path as `vmxfer download --to`).
 */
export async function downloadExported(cloud: 'aws' | 'ecs', done: ExportedObject, sink: ObjectSink, p: ExportCommon, signal?: AbortSignal): Promise<ExportResult> {
  const dl = await downloadOne(cloud, done.bucket, done.key, p.destination, sink, p, signal);
  const dataDisks = [];
  // An ECS image's data disks: one object each, written beside the system disk's file.
  for (const [i, key] of (done.dataKeys ?? []).entries()) dataDisks.push({ ...(await downloadOne(cloud, done.bucket, key, dataDiskPath(p.destination, i + 1), sink, p, signal)), key });
  return { ...dl, taskId: done.taskId, bucket: done.bucket, key: done.key, ...(dataDisks.length ? { dataDisks } : {}) };
}

function downloadOne(cloud: 'aws' | 'ecs', bucket: string, key: string, destination: string, sink: ObjectSink, p: ExportCommon, signal?: AbortSignal) {
  return downloadObject({
    url: exportedObjectUrl(cloud, bucket, key),
    key,
    sink,
    destination,
    to: p.to,
    disk: p.disk,
    concurrency: p.concurrency ?? 4,
    resume: p.resume ?? false,
    checkpoints: p.checkpoints,
    rangeSize: p.partSize,
    signal,
    progress: p.progress,
  });
}
