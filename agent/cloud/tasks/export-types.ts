import type { ObjectReader } from '../object-reader.js';
import type { PollPolicy } from '../poll-task.js';
import type { DownloadResult } from './download.js';

export interface ExportCommon {
  /** Local destination of the downloaded object. */
  destination: string;
  poll?: PollPolicy | undefined;
  partSize?: number | undefined;
  /** Reads the bucket; an S3/OSS ObjectSink in production, any ObjectReader in tests. Defaults to S3 over the connection. */
  reader?: ObjectReader | undefined;
  onBytes?: ((n: number) => void) | undefined;
}

export interface ExportResult extends DownloadResult {
  taskId: string;
  bucket: string;
}

