import { resolve } from 'node:path';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { ProgressTracker } from '../core/progress.js';
import type { ExportDisk } from '../cloud/tasks/export-disks.js';
import type { OpenedSink } from '../sinks/open-sink.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import type { TokenBucket } from '../sinks/token-bucket.js';
import { downloadCheckpointId, type DownloadCheckpoint } from '../transfer/download-checkpoint.js';
import { checkpointedPartial, downloadObject, type DownloadResult } from '../transfer/download.js';
import type { WorkflowPorts } from './ports.js';

/** The front end's transfer settings of a download: flags in the CLI, the job's options over `transfer` in the daemon. */
export interface DownloadSettings {
  /** Convert to this writer target on the way; undefined keeps the object's bytes. */
  to?: string | undefined;
  /** With `to`: which disk of a multi-disk object to convert, 1-based. */
  disk?: number | undefined;
  concurrency: number;
  rangeSize?: number | undefined;
  bandwidth?: TokenBucket | undefined;
  checkpoints: CheckpointStore<DownloadCheckpoint>;
}

/** `vmxfer download` and a download job. */
export interface DownloadWorkflowRequest extends DownloadSettings {
  url: string;
  destination: string;
  /**
   * `true` continues the checkpoint of an interrupted download (--resume), `false` starts over;
   * `'if-checkpointed'` continues one when there is one (a job after a daemon restart, an export's disk).
   */
  resume: boolean | 'if-checkpointed';
}

type DownloadPorts = Pick<WorkflowPorts, 'progress' | 'signal'>;

/**
 * Ranged GETs into the partial file, verified, renamed to the destination. Any abort keeps the partial
 * file and its checkpoint for a resume (docs/cloud.md "One behaviour for the CLI and the daemon"); a
 * daemon job's cancel then removes them (discardDownload), as the user gave the job up.
 */
export async function downloadWorkflow(request: DownloadWorkflowRequest, ports: DownloadPorts & Pick<WorkflowPorts, 'sinks'>): Promise<DownloadResult> {
  return downloadFrom(await ports.sinks.open(request.url), request, ports);
}

/** The download from a sink already open (an export's bucket). */
export async function downloadFrom({ sink, key }: OpenedSink, request: DownloadWorkflowRequest, ports: DownloadPorts): Promise<DownloadResult> {
  return downloadObject({
    url: request.url,
    key,
    sink,
    destination: request.destination,
    to: request.to,
    disk: request.disk,
    concurrency: request.concurrency,
    rangeSize: request.rangeSize,
    resume: request.resume === 'if-checkpointed' ? await hasCheckpoint(request) : request.resume,
    checkpoints: request.checkpoints,
    bandwidth: request.bandwidth,
    signal: ports.signal,
    progress: ports.progress,
  });
}

/**
 * One disk of an export (exportWorkflow's `download`): it continues the disk's checkpoint when a crash
 * left one, in the CLI as in the daemon.
 */
export function exportDiskDownload(settings: DownloadSettings, signal: AbortSignal): (disk: ExportDisk, progress: ProgressTracker, sink: ObjectSink) => Promise<DownloadResult> {
  return (disk, progress, sink) => downloadFrom({ sink, key: disk.key }, { ...settings, url: disk.url, destination: disk.destination, resume: 'if-checkpointed' }, { progress, signal });
}

/** The SHA-256 of the file a download wrote, when it knows it: a conversion's output, or the object checked against its vmxfer-sha256 tag. */
export function downloadedSha256(r: DownloadResult): string | undefined {
  return r.conversion?.outputSha256 ?? r.sha256Verified;
}

async function hasCheckpoint(request: DownloadWorkflowRequest): Promise<boolean> {
  const id = downloadCheckpointId(request.url, checkpointedPartial(resolve(request.destination), request.to !== undefined));
  return (await request.checkpoints.load(id).catch(() => undefined)) !== undefined;
}
