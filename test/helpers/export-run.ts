import { awsClients } from '../../agent/cloud/aws/aws-clients.js';
import type { ExportOptions } from '../../agent/cloud/export-options.js';
import type { PollPolicy } from '../../agent/cloud/poll-task.js';
import type { CloudTaskCallbacks } from '../../agent/cloud/task-events.js';
import type { CloudConnections } from '../../agent/cloud/upload-import/import-step-params.js';
import type { CheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { ProgressTracker } from '../../agent/core/progress.js';
import type { ObjectSink } from '../../agent/sinks/object-sink.js';
import { retryingSink } from '../../agent/sinks/retrying-sink.js';
import { S3Sink } from '../../agent/sinks/s3/s3-sink.js';
import { parseObjectUrl } from '../../agent/sinks/object-url.js';
import type { DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';
import { downloadedSha256, exportDiskDownload } from '../../agent/workflows/download.js';
import { exportResult, exportWorkflow, type ExportResult } from '../../agent/workflows/export.js';
import { MemoryJournal } from '../../agent/workflows/memory-journal.js';
import type { SinkFactory } from '../../agent/workflows/ports.js';

export interface ExportRun {
  destination: string;
  poll: PollPolicy;
  checkpoints: CheckpointStore<DownloadCheckpoint>;
  /** Bytes per ranged GET (default: the download's choice). */
  partSize?: number | undefined;
  /** The export bucket (the OSS protocol server's for ECS); AWS defaults to S3 over the connection's own client. */
  sink?: ObjectSink | undefined;
  progress?: ProgressTracker | undefined;
}

/**
 * One export through exportWorkflow as `vmxfer export` runs it: a journal in memory, an abort cancels the
 * cloud task and removes the disks, the result as the CLI prints it. No DryRun call unless `e.dryRun` asks.
 */
export async function runExport(connections: CloudConnections, e: ExportOptions, run: ExportRun, callbacks: Pick<CloudTaskCallbacks, 'onStatus'> = {}, signal = new AbortController().signal): Promise<ExportResult> {
  const checked = 'dryRun' in e ? e : { ...e, dryRun: false };
  const settings = { concurrency: 4, rangeSize: run.partSize, checkpoints: run.checkpoints };
  const done = await exportWorkflow(
    { export: checked, destination: run.destination, checkpoints: run.checkpoints, converting: false, download: exportDiskDownload(settings, signal), knownSha256: downloadedSha256 },
    {
      journal: new MemoryJournal(),
      sinks: bucketSinks(connections, run.sink),
      cloud: { connections, poll: run.poll },
      reporter: { phase: () => undefined, validated: () => undefined, guest: () => undefined, cloudTask: (s) => callbacks.onStatus?.(s), outcome: () => undefined },
      progress: run.progress ?? new ProgressTracker(),
      signal,
    },
  );
  return exportResult(done.exported, done.disks);
}

/** The export bucket: the test's sink, or S3 over the AWS connection's client (its endpoint, the protocol fake). */
function bucketSinks(connections: CloudConnections, sink: ObjectSink | undefined): SinkFactory {
  const open = (url: string): { sink: ObjectSink; key: string } => {
    const { bucket, key } = parseObjectUrl(url);
    return { sink: sink ?? retryingSink(new S3Sink({ bucket }, awsClients(connections.aws!).s3)), key };
  };
  return {
    open: async (url) => open(url),
    openBucket: async (url) => ({ sink: open(url).sink, prefix: open(url).key }),
  };
}
