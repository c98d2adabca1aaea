import { randomBytes } from 'node:crypto';
import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK } from '../helpers/ebs-fake/snapshots.js';
import type { RealisticDiskSpec } from '../helpers/realistic-disk.js';

/** A 1 GiB-less-three-sectors GPT disk: ext4 filled from real files, random and text regions (not a block multiple). */
export const EBS_DISK: RealisticDiskSpec = { name: 'ebs-source', size: 1024 ** 3 - 1536, fsMiB: 40, fillFrom: ['/usr/share/zoneinfo', '/usr/share/doc/git'], randomMiB: 6, textMiB: 3 };

/** Per 512 KiB block of a raw file: whether it holds a non-zero byte (the file's end padded with zeros). */
export async function nonZeroBlocks(raw: string): Promise<boolean[]> {
  const fh = await open(raw, 'r');
  try {
    const { size } = await fh.stat();
    const out: boolean[] = [];
    const buf = Buffer.alloc(BLOCK);
    for (let at = 0; at < size; at += BLOCK) {
      buf.fill(0);
      await fh.read(buf, 0, Math.min(BLOCK, size - at), at);
      out.push(buf.some((b) => b !== 0));
    }
    return out;
  } finally {
    await fh.close();
  }
}

/**
 * The next state of the disk for an incremental pass: new data in blocks that were zero, some data
 * blocks zeroed (their data must disappear from the child though the parent holds it), a few bytes
 * changed in others. Returns the new raw file and the changed block indexes.
 */
export async function changeDisk(dir: string, raw: string, before: boolean[]): Promise<{ path: string; zeroed: number[]; filled: number[]; edited: number[] }> {
  const path = join(dir, 'changed.raw');
  await copyFile(raw, path);
  const data = before.flatMap((nz, i) => (nz ? [i] : []));
  const holes = before.flatMap((nz, i) => (!nz ? [i] : []));
  const pick = (from: number[], n: number, salt: number) => Array.from({ length: n }, (_, k) => from[Math.floor(((k + 1) * from.length) / (n + 1)) + salt]!).filter((x, i, a) => x !== undefined && a.indexOf(x) === i);
  const zeroed = pick(data, 5, 1);
  const edited = pick(data, 7, 0).filter((i) => !zeroed.includes(i));
  const filled = pick(holes, 9, 0).filter((i) => (i + 1) * BLOCK <= before.length * BLOCK - BLOCK);
  const fh = await open(path, 'r+');
  try {
    for (const i of zeroed) await fh.write(Buffer.alloc(BLOCK), 0, BLOCK, i * BLOCK);
    for (const i of filled) await fh.write(randomBytes(BLOCK), 0, BLOCK, i * BLOCK);
    for (const i of edited) await fh.write(randomBytes(100), 0, 100, i * BLOCK + 4096);
  } finally {
    await fh.close();
  }
  return { path, zeroed, filled, edited };
}
