import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRealisticDisk, type RealisticDiskSpec } from './realistic-disk.js';
import { qemuFromRaw } from './qemu.js';
import { fixtureCacheDir } from './tmp.js';

/**
 * A qemu-made VMDK of a realistic disk, built once per checkout under .tmp/fixtures/vmdk-*
 * (a folder, since split and flat subformats write several files). Returns the main file's path.
 */
export async function cachedVmdk(spec: RealisticDiskSpec, subformat: string, extra: string[] = []): Promise<string> {
  const key = [spec.name, subformat, ...extra].join('-').replace(/[^\w-]/g, '_');
  const dir = join(await fixtureCacheDir(), `vmdk-${key}`);
  const main = join(dir, 'disk.vmdk');
  if (existsSync(main)) return main;
  const building = `${dir}.${process.pid}.building`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  const raw = await buildRealisticDisk(spec);
  await qemuFromRaw(raw, join(building, 'disk.vmdk'), 'vmdk', ['-o', [`subformat=${subformat}`, ...extra].join(',')]);
  // Another test file may have finished the same fixture first: keep whichever landed.
  await rename(building, dir).catch(() => rm(building, { recursive: true, force: true }));
  return main;
}

/** Copies every file of a cached VMDK's folder into `dir` (for tests that patch bytes). */
export async function copyVmdk(main: string, dir: string): Promise<string> {
  const from = join(main, '..');
  for (const name of await readdir(from)) await copyFile(join(from, name), join(dir, name));
  return join(dir, 'disk.vmdk');
}
