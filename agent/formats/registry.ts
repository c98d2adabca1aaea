import type { FormatReader } from './format-reader.js';
import type { DiskWriter } from './format-writer.js';
import { rawReader } from './raw/raw-reader.js';
import { qcow2Reader } from './qcow2/qcow2-reader.js';
import { createQcow2Writer, qcow2Writer } from './qcow2/qcow2-writer.js';
import { rawWriter } from './raw/raw-writer.js';
import { vmdkReader } from './vmdk/vmdk-reader.js';
import { vhdReader } from './vhd/vhd-reader.js';
import { vhdDynamicWriter } from './vhd/vhd-dynamic-writer.js';
import { vhdFixedWriter } from './vhd/vhd-fixed-writer.js';
import { vhdxReader } from './vhdx/vhdx-reader.js';
import { vdiReader } from './vdi/vdi-reader.js';
import { streamOptimizedWriter } from './vmdk/stream-optimized-writer.js';
import { ovaReader } from './ova/ova-reader.js';
import { ovfDirectoryReader } from './ova/ovf-directory-reader.js';
import { ovaWriter } from './ova/writer/ova-writer.js';

/**
 * Every input format, most specific first: detection asks each in turn and raw, which accepts
 * anything, comes last. Formats register here and nowhere else.
 */
export const READERS: readonly FormatReader[] = [
  qcow2Reader,
  // Before VMDK: a small OVA holds a VMDK descriptor in its first 4 KiB, which the VMDK probe takes
  // for a descriptor file; the OVA probe (ustar magic, an .ovf first member) fits nothing else.
  ovaReader,
  vmdkReader,
  vhdReader,
  vhdxReader,
  vdiReader,
  ovfDirectoryReader,
  rawReader,
];

/** Every output format by its `--to` name. */
export const WRITERS: readonly DiskWriter[] = [
  streamOptimizedWriter,
  vhdDynamicWriter,
  vhdFixedWriter,
  qcow2Writer,
  rawWriter,
  ovaWriter,
];

export function readerByName(name: string): FormatReader | undefined {
  return READERS.find((r) => r.name === name);
}

export function writerByTarget(target: string): DiskWriter | undefined {
  return WRITERS.find((w) => w.target === target);
}

export interface WriterChoice {
  /** Compressed clusters where the format makes them optional (qcow2). */
  compress?: boolean | undefined;
}

/** The writer for a target with per-job choices applied; undefined for an unknown target. */
export function writerFor(target: string, choice: WriterChoice = {}): DiskWriter | undefined {
  if (choice.compress && target === 'qcow2') return createQcow2Writer({ compress: true });
  return writerByTarget(target);
}
