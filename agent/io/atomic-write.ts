import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError } from './random-access-file.js';

/** A temporary sibling name no other writer uses; the leading dot keeps it out of listings. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

export interface AtomicWriteOptions {
  /** Create missing parent directories (default true); false lets ENOENT reach the caller. */
  createDirs?: boolean;
  /** File mode of the new file (default 0o666 less the umask). */
  mode?: number;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the complete new one:
 * a temporary sibling, fsync, rename, then fsync of the directory so the rename is durable.
 * Errors keep their errno `code` in `cause` for callers that map ENOENT.
 */
export async function writeFileAtomic(path: string, data: Buffer | string, opts: AtomicWriteOptions = {}): Promise<void> {
  if (opts.createDirs !== false) {
    await mkdir(dirname(path), { recursive: true }).catch((err) => {
      throw fsError(err, dirname(path));
    });
  }
  const tmp = tempSibling(path);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', opts.mode);
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw fsError(err, path);
  }
  await syncDirectory(dirname(path));
}

/** fsync on a directory makes a rename inside it survive a crash (POSIX rename(2), fsync(2)). */
export async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    throw fsError(err, dir);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
