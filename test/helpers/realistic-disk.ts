import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run-command.js';
import { fixtureCacheDir } from './tmp.js';

/**
 * Disks with realistic content, built without loop devices or mounts (shared/docs/field-notes.md):
 * a GPT label, an ext4 partition filled from real directories with mkfs.ext4 -d, then a random
 * (incompressible) region, a text-like region, zeros, and a few bytes in the last sector.
 */
export interface RealisticDiskSpec {
  /** Cache key; the image is built once per checkout and reused. */
  name: string;
  /** Total size; a multiple of 512 but usually not of 64 KiB. */
  size: number;
  /** Size of the ext4 partition in MiB (0: no filesystem). */
  fsMiB: number;
  /** Real directories copied into the filesystem. */
  fillFrom: string[];
  /** Random and text-like regions after the filesystem, in MiB each. */
  randomMiB?: number;
  textMiB?: number;
}

const MiB = 1024 * 1024;

export async function buildRealisticDisk(spec: RealisticDiskSpec): Promise<string> {
  const dir = await fixtureCacheDir();
  const key = createHash('sha1').update(JSON.stringify(spec)).digest('hex').slice(0, 10);
  const path = join(dir, `${spec.name}-${key}.raw`);
  if (existsSync(path)) return path;
  const tmp = `${path}.${process.pid}.building`;
  await rm(tmp, { force: true });
  await truncate(tmp, 0).catch(async () => (await open(tmp, 'w')).close());
  await truncate(tmp, spec.size);
  let next = MiB;
  if (spec.fsMiB > 0) {
    await run('sgdisk', ['-q', '-n', `1:2048:+${spec.fsMiB}M`, '-t', '1:8300', '-n', '2:0:0', '-t', '2:0700', tmp]);
    const root = await populateRoot(dir, spec);
    await run('mkfs.ext4', ['-q', '-F', '-d', root, '-E', `offset=${MiB}`, tmp, `${spec.fsMiB * 1024}`]);
    await rm(root, { recursive: true, force: true });
    next = MiB + spec.fsMiB * MiB;
  }
  const fh = await open(tmp, 'r+');
  try {
    if (spec.randomMiB) {
      await fh.write(randomBytes(spec.randomMiB * MiB), 0, spec.randomMiB * MiB, next + 3 * 4096);
      next += (spec.randomMiB + 1) * MiB;
    }
    if (spec.textMiB) {
      const text = textLike(spec.textMiB * MiB);
      await fh.write(text, 0, text.length, next + 777);
      next += (spec.textMiB + 1) * MiB;
    }
    const tail = Buffer.from('last sector of the disk: not a multiple of the grain size\n');
    if (spec.size - tail.length > next) await fh.write(tail, 0, tail.length, spec.size - 512);
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return path;
}

async function populateRoot(cacheDir: string, spec: RealisticDiskSpec): Promise<string> {
  const root = join(cacheDir, `root-${spec.name}-${process.pid}`);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  for (const [i, src] of spec.fillFrom.entries()) {
    if (existsSync(src)) await run('cp', ['-r', '--no-preserve=ownership', src, join(root, `d${i}`)]).catch(() => undefined);
  }
  return root;
}

function textLike(n: number): Buffer {
  const words = ['disk', 'image', 'virtual', 'machine', 'grain', 'sector', 'cluster', 'the', 'of', 'and', 'migration', 'bucket', 'extent', 'header', 'footer'];
  const out = Buffer.allocUnsafe(n);
  let seed = 12345;
  let pos = 0;
  while (pos < n) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = words[seed % words.length]! + (seed % 13 === 0 ? '.\n' : ' ');
    pos += out.write(w, pos, 'latin1');
  }
  return out;
}

/** A small realistic disk most format tests share: 48 MiB ext4 + random + text, size not grain-aligned. */
export const SMALL_DISK: RealisticDiskSpec = {
  name: 'small',
  size: 80 * MiB + 7 * 512,
  fsMiB: 48,
  fillFrom: ['/usr/share/perl', '/usr/share/zoneinfo'],
  randomMiB: 3,
  textMiB: 2,
};

/** A disk with nothing allocated. */
export const EMPTY_DISK: RealisticDiskSpec = { name: 'empty', size: 16 * MiB + 512, fsMiB: 0, fillFrom: [] };

/** A mostly-sparse disk of several GiB: a small filesystem at the start, data near the end. */
export const SPARSE_DISK: RealisticDiskSpec = {
  name: 'sparse',
  size: 6 * 1024 * MiB + 3 * 512,
  fsMiB: 32,
  fillFrom: ['/usr/share/zoneinfo'],
  randomMiB: 1,
  textMiB: 1,
};
