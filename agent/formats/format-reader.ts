import type { DiskSource } from '../disk/disk-source.js';

export interface OpenOptions {
  /** Explicit parent for a differencing/delta disk whose parent is not beside it. */
  parent?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Which disk of a multi-disk package (OVA, OVF directory) to read: 1-based, in OVF DiskSection order. */
  disk?: number | undefined;
}

/** What the first and last bytes of a file look like, for detection without parsing. */
export interface ProbeInput {
  path: string;
  size: number;
  /** Up to the first 64 KiB. */
  head: Buffer;
  /** Up to the last 512 bytes. */
  tail: Buffer;
}

/** One input format: recognises itself and opens a file as a DiskSource. */
export interface FormatReader {
  readonly name: string;
  probe(input: ProbeInput): boolean;
  open(path: string, opts: OpenOptions): Promise<DiskSource>;
}
