import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMALL_DISK, type RealisticDiskSpec } from './realistic-disk.js';
import { cachedVmdk } from './vmdk-fixtures.js';
import { qemuToRaw } from './qemu.js';
import { fixtureCacheDir } from './tmp.js';
import { run } from './run-command.js';
import { fileSize, gnuTar, vmwareStyleOvf, writeManifest, type ManifestStyle } from './ova-build.js';

/** A second, smaller disk for two-disk packages: random and text regions, no filesystem. */
export const SECOND_DISK: RealisticDiskSpec = { name: 'ova-second', size: 24 * 1024 * 1024 + 3 * 512, fsMiB: 0, fillFrom: [], randomMiB: 2, textMiB: 2 };

export interface TwoDisks {
  vmdks: [string, string];
  /** qemu-img convert -O raw of each VMDK: what every reader must reproduce. */
  oracles: [string, string];
  sizes: [number, number];
}

/** qemu-made stream-optimized VMDKs of SMALL_DISK and SECOND_DISK with their raw renderings (cached). */
export async function twoQemuDisks(): Promise<TwoDisks> {
  const vmdks: [string, string] = [await cachedVmdk(SMALL_DISK, 'streamOptimized'), await cachedVmdk(SECOND_DISK, 'streamOptimized')];
  const oracles: string[] = [];
  for (const v of vmdks) {
    const oracle = join(v, '..', 'oracle.raw');
    if (!existsSync(oracle)) {
      const made = await qemuToRaw(v, join(v, '..'), 'vmdk');
      await rename(made, oracle);
    }
    oracles.push(oracle);
  }
  return { vmdks, oracles: oracles as [string, string], sizes: [SMALL_DISK.size, SECOND_DISK.size] };
}

export interface OvaLayout {
  format: 'ustar' | 'gnu' | 'pax';
  manifest: 'first' | 'last' | 'none';
  style: ManifestStyle;
}

/** Builds `vm.ova` in `dir` holding vm.ovf, the two disks and vm.mf per `layout`; returns its path. */
export async function buildTwoDiskOva(dir: string, disks: TwoDisks, layout: OvaLayout): Promise<string> {
  const stage = join(dir, `stage-${layout.format}-${layout.manifest}`);
  await mkdir(stage, { recursive: true });
  const names = ['vm-disk1.vmdk', 'vm-disk2.vmdk'];
  for (const [i, v] of disks.vmdks.entries()) await copyFile(v, join(stage, names[i]!));
  const specs = await Promise.all(names.map(async (href, i) => ({ href, size: await fileSize(join(stage, href)), capacity: disks.sizes[i]! })));
  await writeFile(join(stage, 'vm.ovf'), vmwareStyleOvf(specs));
  const content = ['vm.ovf', ...names];
  if (layout.manifest !== 'none') await writeManifest(stage, 'vm.mf', content, layout.style);
  const order = layout.manifest === 'first' ? ['vm.ovf', 'vm.mf', ...names] : layout.manifest === 'last' ? [...content, 'vm.mf'] : content;
  const out = await gnuTar(stage, join(dir, `vm-${layout.format}-${layout.manifest}.ova`), order, layout.format);
  await rm(stage, { recursive: true, force: true });
  return out;
}

/** A cache dir for OVA tests' own artefacts. */
export async function ovaCacheDir(): Promise<string> {
  const d = join(await fixtureCacheDir(), 'ova');
  await mkdir(d, { recursive: true });
  return d;
}

/**
 * Copies `vmdk` into `stage` as `href` split into `chunk`-byte members named `href.000000000`, … (what
 * `ovf:chunkSize` packages hold, OVF §5.3); returns the whole file's size and the member names in order.
 */
export async function stageChunkedDisk(stage: string, vmdk: string, href: string, chunk: number): Promise<{ size: number; names: string[] }> {
  await copyFile(vmdk, join(stage, href));
  const size = await fileSize(join(stage, href));
  await run('split', ['-b', String(chunk), '-d', '-a', '9', href, `${href}.`], { cwd: stage });
  await rm(join(stage, href));
  return { size, names: Array.from({ length: Math.ceil(size / chunk) }, (_, i) => `${href}.${String(i).padStart(9, '0')}`) };
}
