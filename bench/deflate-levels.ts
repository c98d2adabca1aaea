/**
 * Benchmark: zlib-wrapped deflate of real 64 KiB grains, libdeflate levels 1-9 against node:zlib levels
 * 1/4/6 with memLevel 8 and 9, on the grains of the 4 GiB bench disk (bench/.work/bench-4g.raw, built by
 * `bash bench/run.sh`). Usage: `npx tsc -p . && node dist/bench/deflate-levels.js [rounds]`.
 *
 * 1. Speed: SAMPLE_GRAINS compressible grains (non-zero, passing the entropy check), spread evenly over the
 *    disk's data, compressed by every configuration once per round, rounds interleaved; MB of input per
 *    CPU-second of this process (user+sys, steady on this loaded box, unlike wall time); median of rounds.
 *    Ratio: deflated bytes / input bytes over the same grains.
 * 2. Size: every non-zero grain of the disk through encodeGrains (entropy check, stored fallback, markers,
 *    sector padding) per configuration, plus the writer's fixed metadata, against the size of qemu-img's
 *    stream-optimized VMDK of the same disk (qemu uses zlib's compress(), level 6).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { loadLibdeflate } from '../agent/compression/libdeflate-addon.js';
import { nativeEngine } from '../agent/compression/libdeflate-engine.js';
import { libdeflateDeflater, type ZlibDeflater } from '../agent/compression/deflate-zlib.js';
import { encodeGrains, looksIncompressible, MAX_GRAIN_RECORD_BYTES } from '../agent/formats/vmdk/grain-encoder.js';
import { maxStreamOptimizedSize } from '../agent/formats/vmdk/stream-optimized-writer.js';
import { zlibStoredLength } from '../agent/formats/vmdk/zlib-stored.js';
import { REPO_ROOT } from '../test/helpers/tmp.js';

const GRAIN = 64 * 1024;
const SAMPLE_GRAINS = 3000;
const ROUNDS = Number(process.argv[2] ?? 3);
const WORK = join(REPO_ROOT, 'bench', '.work');
const SOURCE = join(WORK, 'bench-4g.raw');

interface Config {
  readonly name: string;
  readonly level: number;
  readonly deflater: ZlibDeflater;
}

function zlibConfig(level: number, memLevel: number): Config {
  const deflater: ZlibDeflater = {
    name: `node:zlib memLevel ${memLevel}`,
    implementation: `node:zlib ${process.versions.zlib} memLevel ${memLevel}`,
    defaultLevel: level,
    fallbackReason: 'bench',
    compressInto: (input, output, lvl) => {
      const z = deflateSync(input, { level: lvl, memLevel });
      if (z.length > output.length) return 0;
      output.set(z);
      return z.length;
    },
  };
  return { name: `node:zlib level ${level} memLevel ${memLevel}`, level, deflater };
}

function configs(): Config[] {
  const load = loadLibdeflate();
  if (!('addon' in load)) throw new Error(`libdeflate addon not loaded: ${load.reason} (run node scripts/build-native.mjs)`);
  const lib = libdeflateDeflater(nativeEngine(load.addon));
  const out: Config[] = [];
  for (let level = 1; level <= 9; level++) out.push({ name: `libdeflate level ${level}`, level, deflater: lib });
  for (const level of [1, 4, 6]) for (const mem of [8, 9]) out.push(zlibConfig(level, mem));
  return out;
}

/** Allocated byte ranges of the raw file, from qemu-img map (the rest reads as zeros). */
function dataRanges(file: string): Array<{ start: number; length: number }> {
  const r = spawnSync('qemu-img', ['map', '-f', 'raw', '--output=json', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img map failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Array<{ start: number; length: number; data: boolean }>).filter((e) => e.data);
}

/** Every non-zero grain of the disk's allocated ranges, with its grain index. */
function nonZeroGrains(file: string): Array<{ index: number; data: Buffer }> {
  const fd = openSync(file, 'r');
  const zero = Buffer.alloc(GRAIN);
  const grains: Array<{ index: number; data: Buffer }> = [];
  try {
    for (const r of dataRanges(file)) {
      for (let g = Math.floor(r.start / GRAIN); g * GRAIN < r.start + r.length; g++) {
        if (grains.length > 0 && grains[grains.length - 1]!.index >= g) continue;
        const data = Buffer.alloc(GRAIN);
        readSync(fd, data, 0, GRAIN, g * GRAIN);
        if (!data.equals(zero)) grains.push({ index: g, data });
      }
    }
  } finally {
    closeSync(fd);
  }
  return grains;
}

function evenlySpaced<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** One pass of a configuration over the sample: CPU seconds and deflated bytes. */
function speedPass(c: Config, sample: Buffer[], out: Buffer): { cpu: number; bytes: number } {
  let bytes = 0;
  const t0 = cpuSeconds();
  for (const g of sample) {
    const n = c.deflater.compressInto(g, out, c.level);
    bytes += n === 0 ? zlibStoredLength(g.length) : n;
  }
  return { cpu: cpuSeconds() - t0, bytes };
}

/** Bytes of every grain record the writer would emit for the disk with this configuration. */
function recordBytes(c: Config, grains: Array<{ index: number; data: Buffer }>): number {
  let total = 0;
  for (const g of grains) total += encodeGrains({ firstGrain: g.index, data: g.data, level: c.level }, c.deflater).records.length;
  return total;
}

function qemuOutputBytes(src: string): number {
  const out = join(WORK, 'qemu-levels.vmdk');
  const r = spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', src, out], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('qemu-img convert failed');
  const size = statSync(out).size;
  rmSync(out);
  return size;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  if (!existsSync(SOURCE)) throw new Error(`${SOURCE} is missing: run bash bench/run.sh once to build it`);
  const cs = configs();
  const grains = nonZeroGrains(SOURCE);
  const sample = evenlySpaced(grains.filter((g) => !looksIncompressible(g.data)), SAMPLE_GRAINS).map((g) => g.data);
  const out = Buffer.alloc(zlibStoredLength(GRAIN) - 1);
  const speeds = new Map<string, number[]>(cs.map((c) => [c.name, []]));
  const ratios = new Map<string, number>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cs) {
      const p = speedPass(c, sample, out);
      speeds.get(c.name)!.push((sample.length * GRAIN) / 1e6 / p.cpu);
      ratios.set(c.name, p.bytes / (sample.length * GRAIN));
    }
  }
  // Fixed metadata of our writer = its bound minus the bound's records (every grain stored), which does not
  // depend on the level; grains absent from the disk add nothing.
  const totalGrains = Math.ceil(statSync(SOURCE).size / GRAIN);
  const metadata = maxStreamOptimizedSize(statSync(SOURCE).size) - totalGrains * MAX_GRAIN_RECORD_BYTES;
  const qemu = qemuOutputBytes(SOURCE);
  console.log(`${grains.length} non-zero grains, ${sample.length} compressible in the speed sample, ${ROUNDS} rounds; qemu-img output ${qemu} B`);
  console.log('| compressor and level | MB per CPU-second | ratio (sample) | VMDK output vs qemu-img |');
  console.log('|---|---:|---:|---:|');
  for (const c of cs) {
    const vmdk = metadata + recordBytes(c, grains);
    console.log(`| ${c.name} | ${median(speeds.get(c.name)!).toFixed(1)} | ${ratios.get(c.name)!.toFixed(4)} | ${((vmdk / qemu - 1) * 100).toFixed(2)}% |`);
  }
}

main();
