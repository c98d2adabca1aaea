/**
 * Benchmark: `vmxfer convert --to vmdk` against `qemu-img convert -O vmdk -o subformat=streamOptimized`
 * on a realistic 4 GiB disk (GPT + ext4 holding a few hundred MB of real files, the rest free).
 * Each tool runs RUNS times; the median run is reported. Every child runs under GNU time
 * (/usr/bin/time), which reads the child's own rusage: wall seconds, user+sys CPU seconds, peak RSS.
 * Usage: bash bench/run.sh   (BENCH_RUNS=N changes the number of runs, default 3)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildRealisticDisk, type RealisticDiskSpec } from '../test/helpers/realistic-disk.js';
import { REPO_ROOT } from '../test/helpers/tmp.js';

const MiB = 1024 * 1024;
const WORK = join(REPO_ROOT, 'bench', '.work');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const BENCH_DISK: RealisticDiskSpec = {
  name: 'bench-4g',
  size: 4096 * MiB,
  fsMiB: 1536,
  fillFrom: ['/usr/share/doc', '/usr/lib/python3.11', '/usr/share/locale', '/usr/lib/gcc'],
};

interface Sample {
  wall: number;
  cpu: number;
  rssMiB: number;
  bytes: number;
}

async function benchDisk(): Promise<string> {
  mkdirSync(WORK, { recursive: true });
  const cached = join(WORK, `${BENCH_DISK.name}.raw`);
  if (existsSync(cached)) return cached;
  process.stderr.write('building the 4 GiB benchmark disk (once; cached in bench/.work)...\n');
  renameSync(await buildRealisticDisk(BENCH_DISK), cached);
  return cached;
}

/** Runs a command under GNU time and returns what it measured of that child. */
function timed(cmd: string, args: string[], output: string): Sample {
  rmSync(output, { force: true });
  const report = join(WORK, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', report, cmd, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  const [wall, user, sys, rssKiB] = readFileSync(report, 'utf8').trim().split(/\s+/).slice(-4).map(Number) as [number, number, number, number];
  return { wall, cpu: user + sys, rssMiB: rssKiB / 1024, bytes: statSync(output).size };
}

function median(samples: Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => a.wall - b.wall);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function row(name: string, s: Sample): string {
  return `${name.padEnd(8)} ${s.wall.toFixed(2).padStart(8)} ${s.cpu.toFixed(2).padStart(8)} ${s.rssMiB.toFixed(0).padStart(9)} ${String(s.bytes).padStart(12)}`;
}

async function main(): Promise<void> {
  const src = await benchDisk();
  const ours = join(WORK, 'vmxfer.vmdk');
  const theirs = join(WORK, 'qemu.vmdk');
  const vmxfer: Sample[] = [];
  const qemu: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    vmxfer.push(timed(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), 'convert', src, ours, '--to', 'vmdk', '--format', 'raw'], ours));
    qemu.push(timed('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', src, theirs], theirs));
  }
  const a = median(vmxfer);
  const b = median(qemu);
  console.log(`source: ${src} (${statSync(src).size} bytes virtual), ${RUNS} runs each, median by wall time`);
  console.log(`${'tool'.padEnd(8)} ${'wall s'.padStart(8)} ${'cpu s'.padStart(8)} ${'rss MiB'.padStart(9)} ${'output B'.padStart(12)}`);
  console.log(row('vmxfer', a));
  console.log(row('qemu', b));
  console.log(
    `ratio vmxfer/qemu: wall ${(a.wall / b.wall).toFixed(2)}, cpu ${(a.cpu / b.cpu).toFixed(2)}, rss ${(a.rssMiB / b.rssMiB).toFixed(2)}, size ${(a.bytes / b.bytes).toFixed(4)}`,
  );
  rmSync(ours, { force: true });
  rmSync(theirs, { force: true });
}

await main();
