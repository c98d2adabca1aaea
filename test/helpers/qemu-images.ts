import { existsSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { qemuFromRaw } from './qemu.js';
import { buildRealisticDisk, type RealisticDiskSpec } from './realistic-disk.js';
import { fixtureCacheDir } from './tmp.js';

/** A realistic disk converted by qemu-img to FORMAT with OPTIONS, built once per checkout and cached. */
export async function cachedQemuImage(spec: RealisticDiskSpec, format: string, options: string[]): Promise<string> {
  const raw = await buildRealisticDisk(spec);
  const tag = options.join('_').replace(/[^A-Za-z0-9=]+/g, '-');
  const path = join(await fixtureCacheDir(), `${basename(raw, '.raw')}${tag ? '-' + tag : ''}.${format}`);
  if (existsSync(path)) return path;
  const tmp = `${path}.${process.pid}.building`;
  await rm(tmp, { force: true });
  await qemuFromRaw(raw, tmp, format, options);
  await rename(tmp, path);
  return path;
}

/** A private, writable copy of a cached image for a test that patches it. */
export async function copyInto(dir: string, image: string, name = basename(image)): Promise<string> {
  const out = join(dir, name);
  await copyFile(image, out);
  return out;
}
