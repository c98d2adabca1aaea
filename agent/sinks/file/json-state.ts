import { open, type FileHandle } from 'node:fs/promises';
import { vmxError } from '../../core/errors.js';
import { fsError } from '../../io/random-access-file.js';
import { STORE } from '../error-codes.js';
import { writeFileAtomic } from '../../io/atomic-write.js';

/** The sink's JSON bookkeeping files are small; a bigger one is damaged, not read. */
const MAX_STATE_BYTES = 1024 * 1024;

/** Reads a JSON state file; undefined when it does not exist. */
export async function readJsonState<T>(path: string): Promise<T | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, path);
  }
  try {
    const { size } = await fh.stat();
    if (size > MAX_STATE_BYTES) {
      throw vmxError(STORE.CORRUPT_STATE, `state file has ${size} bytes, over the ${MAX_STATE_BYTES}-byte bound of a sink state file`, { file: path });
    }
    const text = (await fh.readFile()).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw vmxError(STORE.CORRUPT_STATE, `state file is not valid JSON (${(err as Error).message})`, { file: path, cause: err });
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export function writeJsonState(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value));
}
