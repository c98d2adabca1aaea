import type { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import type { ProgressTracker } from '../../core/progress.js';
import type { ObjectSink } from '../../sinks/object-sink.js';
import type { DownloadCheckpoint } from '../../transfer/download-checkpoint.js';
import type { DownloadResult } from '../../transfer/download.js';
import type { PollPolicy } from '../poll-task.js';

export interface ExportCommon {
  /** Local destination of the downloaded object. */
  destination: string;
  /** Convert the object on the way to this writer target (agent/transfer/download.ts `to`); undefined keeps its bytes. */
  to?: string | undefined;
  /** With `to`: the disk of a multi-disk object (an instance export's OVA) to convert, 1-based (default 1). */
  disk?: number | undefined;
  poll?: PollPolicy | undefined;
  /** AWS and ECS ExportImage: a DryRun call before the real one (the CLI's default; --no-dry-run turns it off). */
  dryRunFirst?: boolean | undefined;
  /** Bytes per ranged GET (default: the transfer download's choice). */
  partSize?: number | undefined;
  /** Ranges in flight (default 4). */
  concurrency?: number | undefined;
  /** Where the download records the ranges it has (agent/transfer/download.ts): a rerun with `resume` skips them. */
  checkpoints: CheckpointStore<DownloadCheckpoint>;
  resume?: boolean | undefined;
  /** The store of the export bucket (any ObjectSink); AWS defaults to S3 over the connection. */
  sink?: ObjectSink | undefined;
  progress?: ProgressTracker | undefined;
}

export interface ExportResult extends DownloadResult {
  taskId: string;
  bucket: string;
  key: string;
  /** SHA-256 of the file written to `destination`. */
  sha256: string;
  /** ECS images with data disks: each data disk's object, where it was written (dataDiskPath) and that file's SHA-256. */
  dataDisks?: Array<DownloadResult & { key: string; sha256: string }> | undefined;
}
