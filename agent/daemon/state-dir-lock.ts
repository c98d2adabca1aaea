import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { vmxError } from '../core/errors.js';
import { DAEMON } from './error-codes.js';

/** The lock of one daemon's state directory, released at shutdown. */
export interface StateDirLock {
  release(): Promise<void>;
}

/**
 * Takes `<state_dir>/daemon.lock` (created with O_EXCL, holding the pid): the file job store and the
 * checkpoints have one writer. A lock whose process is gone (kill -9, a reboot, a container's pid 1
 * restarted) is stale and taken over.
 */
export async function lockStateDir(stateDir: string): Promise<StateDirLock> {
  const path = join(stateDir, 'daemon.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { release: () => releaseIfOurs(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = await lockHolder(path);
    if (holder !== undefined && holder !== process.pid && alive(holder)) {
      throw vmxError(DAEMON.STATE_DIR_IN_USE, `state_dir ${stateDir} is in use by the daemon with pid ${holder}; stop it, or give this daemon another state_dir`, { file: path });
    }
    await unlink(path).catch(() => undefined);
  }
}

async function lockHolder(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseIfOurs(path: string): Promise<void> {
  if ((await lockHolder(path)) === process.pid) await unlink(path).catch(() => undefined);
}
