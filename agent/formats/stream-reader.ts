import type { Readable } from 'node:stream';
import type { DiskSource } from '../disk/disk-source.js';

/**
 * Opening a disk from a non-seekable byte stream (an OVA tar member, an HTTP GET body). Only
 * formats laid out for streaming support it (stream-optimized VMDK, raw); `name` is used in
 * error messages in place of a file path. The returned source can be iterated once.
 */
export interface StreamDiskReader {
  readonly name: string;
  open(stream: Readable, opts: { name: string; size?: number | undefined; signal?: AbortSignal | undefined }): Promise<DiskSource>;
}
