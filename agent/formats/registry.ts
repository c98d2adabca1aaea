import type { FormatReader } from './format-reader.js';
import type { DiskWriter } from './format-writer.js';
import { rawReader } from './raw/raw-reader.js';
import { rawWriter } from './raw/raw-writer.js';
import { streamOptimizedWriter } from './vmdk/stream-optimized-writer.js';

/**
 * Every input format, most specific first: detection asks each in turn and raw, which accepts
 * anything, comes last. Formats register here and nowhere else.
 */
export const READERS: readonly FormatReader[] = [
  rawReader,
];

/** Every output format by its `--to` name. */
export const WRITERS: readonly DiskWriter[] = [
  rawWriter,
  streamOptimizedWriter,
];

export function readerByName(name: string): FormatReader | undefined {
  return READERS.find((r) => r.name === name);
}

export function writerByTarget(target: string): DiskWriter | undefined {
  return WRITERS.find((w) => w.target === target);
}
