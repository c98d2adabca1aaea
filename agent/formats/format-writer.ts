import type { DiskSource } from '../disk/disk-source.js';
import type { WorkerPool } from '../pipeline/worker-pool.js';

export interface WriteOptions {
  signal?: AbortSignal | undefined;
  /** The output's file or object name, for formats that record it (a VMDK extent line). */
  outputName?: string | undefined;
  /** Worker pool for per-chunk work (compression, zero detection); inline on the caller's thread when absent. */
  pool?: WorkerPool | undefined;
  /** Bytes of disk per pool task, a power of two from 64 KiB to 32 MiB (default: the writer's own). */
  chunkBytes?: number | undefined;
  /**
   * Values a format stamps into its metadata that are otherwise taken from the clock or a random
   * generator (VHD footer Time Stamp and Unique Id, say). An upload records them in its checkpoint
   * and passes them again on resume, so regenerated parts are byte-identical to the ones sent.
   */
  identity?: ImageIdentity | undefined;
}

/**
 * What decides an output's bytes besides the source and the ImageIdentity. An upload's checkpoint
 * records it, and a resume regenerates parts with the same settings or refuses.
 */
export interface EncoderSettings {
  /** The writer's layout version: bumped whenever the same input would give different bytes. */
  writer: string;
  /** The deflate implementation ("libdeflate 1.14", "node:zlib"); absent when nothing is compressed. */
  compressor?: string | undefined;
  /** Its level; absent when nothing is compressed. */
  level?: number | undefined;
}

export interface ImageIdentity {
  /** Creation time, milliseconds since the Unix epoch. */
  createdAtMs: number;
  /** 16 bytes as 32 hex digits, for formats that carry a unique id. */
  uniqueId: string;
}

/**
 * A rewrite of bytes near the start of the output, known only once all data is written (a table
 * whose entries depend on compressed sizes, say). Yielded only after every Buffer, and only within
 * [0, DiskWriter.patchableHead): file outputs seek back; uploads hold the first part until the end.
 */
export interface HeadPatch {
  readonly kind: 'head-patch';
  readonly offset: number;
  readonly data: Buffer;
}

/**
 * What a writer yields. A Buffer is valid until the consumer asks for the next output: the writer
 * may reuse its memory then (the stream-optimized VMDK and compressed qcow2 writers' encoded data
 * live in shared slots that the worker pool fills again). A consumer that keeps bytes longer keeps
 * a copy.
 */
export type WriterOutput = Buffer | HeadPatch;

export function isHeadPatch(x: WriterOutput): x is HeadPatch {
  return !Buffer.isBuffer(x);
}

/** One output format: turns a DiskSource into the bytes of an image, in one forward pass. */
export interface DiskWriter {
  /** The `--to` name. */
  readonly target: string;
  /** Bytes at the start that a HeadPatch may rewrite at the end; 0 for a pure forward stream. */
  patchableHead(source: DiskSource): number;
  /** Upper bound of the output size, known before the first byte (for multipart part sizing). */
  maxOutputSize(source: DiskSource): number;
  write(source: DiskSource, opts?: WriteOptions): AsyncIterable<WriterOutput>;
  /** The deflate implementation the data goes through ("libdeflate 1.14", "node:zlib"); absent when nothing is compressed. */
  readonly compressor?: string | undefined;
  /** Everything besides source and identity that decides the bytes. */
  readonly encoder: EncoderSettings;
  /**
   * This writer set up to reproduce bytes written with `e` (a resume), or a sentence naming what
   * this machine lacks for it (a compressor that does not load here). Absent: only `e` equal to
   * `encoder` can be reproduced.
   */
  reproduce?(e: EncoderSettings): DiskWriter | string;
}

/** The writer that reproduces `e`, or a sentence naming what is missing. */
export function reproducingWriter(w: DiskWriter, e: EncoderSettings): DiskWriter | string {
  if (w.reproduce) return w.reproduce(e);
  if (e.writer === w.encoder.writer && e.compressor === w.encoder.compressor && e.level === w.encoder.level) return w;
  return `the upload was written by ${describeEncoder(e)}; this vmxfer writes ${describeEncoder(w.encoder)}`;
}

export function describeEncoder(e: EncoderSettings): string {
  return e.compressor === undefined ? `writer ${e.writer}` : `writer ${e.writer} with ${e.compressor} level ${e.level}`;
}
