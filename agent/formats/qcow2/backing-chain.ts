import { realpath } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { vmxError } from '../../core/errors.js';
import type { DiskSource } from '../../disk/disk-source.js';
import { fileExists, RandomAccessFile } from '../../io/random-access-file.js';
import { QCOW2 } from './error-codes.js';
import { QCOW2_MAGIC, type Qcow2Header } from './qcow2-header.js';

/** The images opened so far in one chain (real paths), to catch loops. */
export interface ChainState {
  readonly visited: Set<string>;
  readonly depth: number;
}

/** Deep enough for any real snapshot chain, shallow enough to stop a pathological one. */
export const MAX_CHAIN_DEPTH = 64;

export type OpenQcow2 = (path: string, state: ChainState, signal?: AbortSignal) => Promise<DiskSource>;

/**
 * Opens the backing file a qcow2 header names (qcow2.txt §Header backing_file_offset): a relative
 * name is resolved against the image's directory, as qemu does; `explicitParent` overrides it.
 * The format comes from the backing file format extension when present, else from detection.
 */
export async function openBackingFile(
  imagePath: string,
  h: Qcow2Header,
  explicitParent: string | undefined,
  state: ChainState,
  openQcow2: OpenQcow2,
  signal?: AbortSignal,
): Promise<DiskSource> {
  const path = explicitParent ?? resolve(dirname(imagePath), h.backingFile!);
  const where = { file: imagePath, offset: 8 };
  if (!(await fileExists(path))) {
    throw vmxError(QCOW2.BACKING_MISSING, `backing file "${h.backingFile}" (resolved to ${path}) does not exist`, where);
  }
  const real = await realpath(path);
  if (state.visited.has(real)) throw vmxError(QCOW2.BACKING_LOOP, `backing file ${path} is already in this image's backing chain (a loop)`, where);
  if (state.depth + 1 >= MAX_CHAIN_DEPTH) throw vmxError(QCOW2.BACKING_TOO_DEEP, `the backing chain is deeper than ${MAX_CHAIN_DEPTH} images`, where);
  const next: ChainState = { visited: new Set([...state.visited, real]), depth: state.depth + 1 };
  const format = h.backingFormat ?? ((await startsWithQcow2Magic(path)) ? 'qcow2' : undefined);
  if (format === 'qcow2') return openQcow2(path, next, signal);
  // Imported when needed: detect.js imports the registry, which imports this reader.
  const { openDisk } = await import('../detect.js');
  const { readerByName } = await import('../registry.js');
  if (format !== undefined && !readerByName(format)) {
    throw vmxError(QCOW2.BACKING_FORMAT, `backing file format "${format}" is not one vmxfer reads`, where);
  }
  return openDisk(path, { format, signal });
}

async function startsWithQcow2Magic(path: string): Promise<boolean> {
  const f = await RandomAccessFile.open(path);
  try {
    return f.size >= 4 && (await f.read(0, 4, 'magic')).readUInt32BE(0) === QCOW2_MAGIC;
  } finally {
    await f.close();
  }
}
