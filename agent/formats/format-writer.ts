import type { DiskSource } from '../disk/disk-source.js';

export interface WriteOptions {
  signal?: AbortSignal | undefined;
}

/** One output format: turns a DiskSource into the bytes of an image, in one forward pass. */
export interface DiskWriter {
  /** The `--to` name. */
  readonly target: string;
  /** Upper bound of the output size, known before the first byte (for multipart part sizing). */
  maxOutputSize(source: DiskSource): number;
  write(source: DiskSource, opts?: WriteOptions): AsyncIterable<Buffer>;
}
