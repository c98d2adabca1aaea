import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { convertFile } from '../../agent/pipeline/convert.js';
import { qemuFromRaw } from './qemu.js';

/**
 * A small raw disk for export tests: `sizeMiB` MiB of zeros with 256 KiB runs of random bytes at
 * the start and in the middle (unaligned) and of text in the last MiB, so a conversion has
 * allocated and empty clusters to get right.
 */
export async function smallRaw(dir: string, name: string, sizeMiB = 8): Promise<string> {
  const path = join(dir, name);
  const fh = await open(path, 'w');
  const run = 256 * 1024;
  try {
    await fh.truncate(sizeMiB * 1024 * 1024);
    for (const at of [0, 3 * 1024 * 1024 + 4096]) await fh.write(randomBytes(run), 0, run, at);
    const text = Buffer.from(Array.from({ length: 8000 }, (_, i) => `line ${i} of ${name}\n`).join('')).subarray(0, run);
    await fh.write(text, 0, text.length, (sizeMiB - 1) * 1024 * 1024);
  } finally {
    await fh.close();
  }
  return path;
}

/** qemu-img's stream-optimized VMDK of `raw`: what AWS ExportImage writes for --format vmdk. */
export function qemuStreamVmdk(raw: string, out: string): Promise<string> {
  return qemuFromRaw(raw, out, 'vmdk', ['-o', 'subformat=streamOptimized']);
}

/** An OVA of `raws` (one disk each, in order) made by vmxfer's own OVA writer: .ovf, stream-optimized disks, SHA-256 .mf. */
export async function writerOva(raws: string[], out: string): Promise<string> {
  await convertFile({ source: raws[0]!, extraSources: raws.slice(1), destination: out, to: 'ova', workers: 0 });
  return out;
}
