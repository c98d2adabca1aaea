/**
 * Benchmark: libdeflate in WebAssembly (native-wasm/deflate.wasm) against the native libdeflate addon and
 * node:zlib, at the levels vmxfer uses, on the grains of the 4 GiB bench disk (the disk of
 * bench/vmdk-convert.ts, cached as bench/.work/bench-4g.raw; built here when missing).
 * Usage: `npx tsc -p . && node dist/bench/deflate-wasm.js [rounds]`.
 *
 * 1. Speed: SAMPLE_GRAINS compressible grains (non-zero, passing the entropy check) spread over the disk,
 *    zlib-wrapped, every configuration once per round, rounds interleaved; CPU-seconds (user+sys of this
 *    thread's process) per GB (1e9 bytes) of input, median of rounds.
 * 2. Whole disk: `vmxfer convert --to vmdk --no-source-hash` under GNU time with VMXFER_DEFLATE=native,
 *    wasm and node:zlib (their default levels): CPU-seconds, output bytes, and whether the native and
 *    wasm outputs are identical after the descriptor (whose CID is random without an upload identity).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { loadLibdeflate } from '../agent/compression/libdeflate-addon.js';
import { nativeEngine, wasmEngine, type LibdeflateEngine } from '../agent/compression/libdeflate-engine.js';
import { looksIncompressible } from '../agent/formats/vmdk/grain-encoder.js';
import { OVERHEAD_SECTORS } from '../agent/formats/vmdk/stream-optimized-writer.js';
import { buildRealisticDisk, type RealisticDiskSpec } from '../test/helpers/realistic-disk.js';
import { REPO_ROOT } from '../test/helpers/tmp.js';

const GRAIN = 64 * 1024;
const MiB = 1024 * 1024;
const SAMPLE_GRAINS = 2000;
const ROUNDS = Number(process.argv[2] ?? 3);
const WORK = join(REPO_ROOT, 'bench', '.work');
/** The same disk as bench/vmdk-convert.ts (one cache file serves both). */
const BENCH_DISK: RealisticDiskSpec = {
  name: 'bench-4g',
  size: 4096 * MiB,
  fsMiB: 1536,
  fillFrom: ['/usr/share/doc', '/usr/lib/python3.11', '/usr/share/locale', '/usr/lib/gcc'],
};

async function benchDisk(): Promise<string> {
  mkdirSync(WORK, { recursive: true });
  const cached = join(WORK, `${BENCH_DISK.name}.raw`);
  if (!existsSync(cached)) renameSync(await buildRealisticDisk(BENCH_DISK), cached);
  return cached;
}

function sampleGrains(path: string): Buffer[] {
  const fd = openSync(path, 'r');
  try {
    const all: Buffer[] = [];
    const grain = Buffer.alloc(GRAIN);
    for (let off = 0; off + GRAIN <= statSync(path).size; off += GRAIN) {
      readSync(fd, grain, 0, GRAIN, off);
      if (grain.some((b) => b !== 0) && !looksIncompressible(grain)) all.push(Buffer.from(grain));
    }
    const step = Math.max(1, Math.floor(all.length / SAMPLE_GRAINS));
    return all.filter((_, i) => i % step === 0).slice(0, SAMPLE_GRAINS);
  } finally {
    closeSync(fd);
  }
}

interface Config {
  readonly name: string;
  run(grain: Buffer): number;
}

function engineConfig(engine: LibdeflateEngine, level: number): Config {
  const out = Buffer.alloc(GRAIN + 1024);
  return { name: `libdeflate ${engine.kind} level ${level}`, run: (g) => engine.compress('zlib', g, out, level) };
}

function zlibConfig(level: number): Config {
  return { name: `node:zlib level ${level}`, run: (g) => deflateSync(g, { level }).length };
}

function cpuSeconds(): number {
  const r = process.resourceUsage();
  return (r.userCPUTime + r.systemCPUTime) / 1e6;
}

function speed(configs: Config[], grains: Buffer[]): void {
  const cpu = new Map<string, number[]>();
  const ratio = new Map<string, number>();
  const inputBytes = grains.length * GRAIN;
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of configs) {
      const t0 = cpuSeconds();
      let out = 0;
      for (const g of grains) out += c.run(g);
      const seconds = cpuSeconds() - t0;
      cpu.set(c.name, [...(cpu.get(c.name) ?? []), (seconds / inputBytes) * 1e9]);
      ratio.set(c.name, out / inputBytes);
    }
  }
  console.log(`| compressor and level | CPU-s per GB of input (median of ${ROUNDS}) | ratio |`);
  console.log('|---|---:|---:|');
  for (const c of configs) {
    const runs = cpu.get(c.name)!.sort((a, b) => a - b);
    console.log(`| ${c.name} | ${runs[Math.floor(runs.length / 2)]!.toFixed(2)} | ${ratio.get(c.name)!.toFixed(4)} |`);
  }
}

function convert(source: string, setting: string): { cpu: number; bytes: number; afterHead: string } {
  const out = join(WORK, `deflate-wasm-${setting.replace(/\W/g, '')}.vmdk`);
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, join(REPO_ROOT, 'bin', 'vmxfer.js'), 'convert', source, out, '--to', 'vmdk', '--format', 'raw', '--no-source-hash'], {
    env: { ...process.env, VMXFER_DEFLATE: setting },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`convert with VMXFER_DEFLATE=${setting} failed: ${r.stderr}`);
  const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const bytes = statSync(out).size;
  const afterHead = createHash('sha256').update(readFileSync(out).subarray(OVERHEAD_SECTORS * 512)).digest('hex');
  rmSync(out);
  return { cpu: user! + sys!, bytes, afterHead };
}

async function main(): Promise<void> {
  const source = await benchDisk();
  const grains = sampleGrains(source);
  const load = loadLibdeflate();
  const engines = [wasmEngine(), ...('addon' in load ? [nativeEngine(load.addon)] : [])];
  const configs = [1, 2, 4, 6].flatMap((level) => [...engines.map((e) => engineConfig(e, level)), zlibConfig(level)]);
  console.log(`${grains.length} compressible grains of ${source}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  speed(configs, grains);
  console.log('\n| VMXFER_DEFLATE | convert CPU-s | output bytes | same bytes as native after the descriptor |');
  console.log('|---|---:|---:|---|');
  const settings = 'addon' in load ? ['native', 'wasm', 'node:zlib'] : ['wasm', 'node:zlib'];
  const results = settings.map((s) => [s, convert(source, s)] as const);
  const native = results.find(([s]) => s === 'native')?.[1];
  for (const [s, r] of results) console.log(`| ${s} | ${r.cpu.toFixed(2)} | ${r.bytes} | ${native ? String(r.afterHead === native.afterHead) : 'n/a'} |`);
}

await main();
