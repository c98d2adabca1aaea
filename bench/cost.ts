/**
 * Issue #19 point 5, in one run: what vmxfer costs per GiB against the standard tools, on the
 * realistic disks (a Debian-like GPT Linux disk, a data disk, and the 4 GiB bench disk of
 * vmdk-convert.ts, all from test/helpers/realistic-disk.ts):
 *  1. `vmxfer convert --to vmdk` with its defaults  vs  `qemu-img convert -O vmdk -o subformat=streamOptimized`;
 *  2. `vmxfer upload --as vmdk` to the loopback Ceph RGW (Content-MD5 parts, its default there) and through
 *     the AWS S3 checksum protocol fake (test/helpers/aws-s3-checksum-fake.ts) with CRC-32C (AWS's default)
 *     and CRC-64/NVME, vs `vmxfer convert` alone, in vmxfer's own CPU-seconds: GNU time reports the vmxfer
 *     child's rusage only, so the store (radosgw, ceph-osd, the fake in this process) does not count.
 *     Each convert/upload step runs BENCH_RUNS times (default 2, interleaved) and the median is kept;
 *     a 1 MiB source measures what every upload costs whatever its size (the fixed part), and an
 *     incompressible 512 MiB disk what each further GiB of output costs (the slope);
 *  3. passthrough (`vmxfer upload --as original`) vs `aws s3 cp` and `rclone copyto`, CPU-s per GiB and wall.
 * Prints every figure, the targets as pass/fail with their ratios, and the paper throughput of one
 * agent on 16 cores and 10 Gbit/s. Tools: bash bench/setup.sh. Run: npx tsc -p . && nice node dist/bench/cost.js
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { buildRealisticDisk, type RealisticDiskSpec } from '../test/helpers/realistic-disk.js';
import { createTestBucket, ensureRgw, type RgwEnv, type TestBucket } from '../test/helpers/rgw.js';
import { startAwsS3ChecksumFake } from '../test/helpers/aws-s3-checksum-fake.js';
import { REPO_ROOT } from '../test/helpers/tmp.js';

const pexec = promisify(execFile);
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const WORK = join(REPO_ROOT, 'bench', '.work');
const CLI = join(REPO_ROOT, 'bin', 'vmxfer.js');
/** 10 Gbit/s in GiB/s. */
const LINK_GIB_S = 10e9 / 8 / GiB;
const CORES = 16;

const DISKS: RealisticDiskSpec[] = [
  { name: 'linux-gpt-4g', size: 4096 * MiB, fsMiB: 1024, fillFrom: ['/usr/lib/python3.11', '/usr/share/perl', '/usr/lib/gcc', '/usr/share/zoneinfo'] },
  { name: 'data-2g', size: 2048 * MiB, fsMiB: 768, fillFrom: ['/usr/share/doc', '/usr/share/locale'], randomMiB: 16, textMiB: 16 },
  // The same spec as vmdk-convert.ts's bench disk.
  { name: 'bench-4g', size: 4096 * MiB, fsMiB: 1536, fillFrom: ['/usr/share/doc', '/usr/lib/python3.11', '/usr/share/locale', '/usr/lib/gcc'] },
  // Not a realistic disk: an output of ~0.5 GiB whose deflate is skipped (stored grains), so the upload's
  // per-GiB cost stands out from its fixed cost.
  { name: 'random-512m', size: 520 * MiB, fsMiB: 0, fillFrom: [], randomMiB: 512 },
];
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 2));
/** The part checksums measured through the AWS fake: AWS's default first. */
const AWS_CHECKSUMS = ['crc32c', 'crc64nvme'] as const;

interface Timing {
  wall: number;
  cpu: number;
}

async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Timing> {
  // AWS_CA_BUNDLE (set on this machine for HTTPS proxies) makes rclone's S3 backend refuse a plain-HTTP endpoint.
  const base = { ...process.env };
  delete base.AWS_CA_BUNDLE;
  const report = join(WORK, 'cost-time.txt');
  await pexec('/usr/bin/time', ['-o', report, '-f', '%e %U %S', cmd, ...args], { env: { ...base, ...env }, maxBuffer: 16 * MiB });
  const [wall, user, sys] = (await readFile(report, 'utf8')).trim().split(/\s+/).slice(-3).map(Number);
  return { wall: wall!, cpu: +(user! + sys!).toFixed(2) };
}

/** Deletes an object and gives RGW's garbage collector (every 10 s, scripts/rgw/start.sh) time: memstore is RAM. */
async function discard(b: TestBucket, key: string, bytes: number): Promise<void> {
  await b.client.send(new DeleteObjectCommand({ Bucket: b.name, Key: key }));
  if (bytes > 512 * MiB) await sleep(20_000);
}

const ratio = (a: number, b: number) => +(a / b).toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** The run of median CPU among `runs` (all of them kept for the report). */
function medianRun(runs: Timing[]): Timing & { cpuRuns: number[] } {
  const m = median(runs.map((r) => r.cpu));
  return { ...runs.find((r) => r.cpu === m)!, cpuRuns: runs.map((r) => r.cpu) };
}
const perGiB = (cpu: number, bytes: number) => +(cpu / (bytes / GiB)).toFixed(3);

interface Steps {
  convert: Timing & { cpuRuns: number[] };
  uploads: Record<string, Timing & { cpuRuns: number[] }>;
  outputBytes: number;
}

/** `vmxfer convert` and the uploads of the same source, interleaved, BENCH_RUNS times each. */
async function convertAndUploads(src: string, name: string, env: RgwEnv, b: TestBucket, fakeEndpoint: string, s3env: NodeJS.ProcessEnv): Promise<Steps> {
  const out = join(WORK, `${name}.vmdk`);
  const state = ['--state-dir', join(WORK, 'cost-state')];
  const runs: { convert: Timing[]; uploads: Record<string, Timing[]> } = { convert: [], uploads: { md5: [], ...Object.fromEntries(AWS_CHECKSUMS.map((c) => [c, []])) } };
  let outputBytes = 0;
  for (let i = 0; i < RUNS; i++) {
    runs.convert.push(await timed(process.execPath, [CLI, 'convert', src, out, '--to', 'vmdk', '--format', 'raw']));
    outputBytes = (await stat(out)).size;
    await rm(out, { force: true });
    runs.uploads.md5!.push(await timed(process.execPath, [CLI, 'upload', src, `s3://${b.name}/${name}.vmdk`, '--as', 'vmdk', '--format', 'raw', '--endpoint', env.endpoint, '--path-style', ...state], s3env));
    await discard(b, `${name}.vmdk`, outputBytes);
    for (const c of AWS_CHECKSUMS) {
      runs.uploads[c]!.push(await timed(process.execPath, [CLI, 'upload', src, `s3://${b.name}/${name}.${c}.vmdk`, '--as', 'vmdk', '--format', 'raw', '--endpoint', fakeEndpoint, '--path-style', '--store-checksum', c, ...state], s3env));
      await discard(b, `${name}.${c}.vmdk`, outputBytes);
    }
  }
  return { convert: medianRun(runs.convert), uploads: Object.fromEntries(Object.entries(runs.uploads).map(([k, v]) => [k, medianRun(v)])), outputBytes };
}

/** What an upload costs over convert alone when the output is 1 MiB: the per-upload (fixed) CPU-seconds. */
async function measureFixed(env: RgwEnv, b: TestBucket, fakeEndpoint: string, s3env: NodeJS.ProcessEnv): Promise<Record<string, number>> {
  const src = join(WORK, 'fixed-1m.raw');
  await writeFile(src, randomBytes(MiB));
  const steps = await convertAndUploads(src, 'fixed-1m', env, b, fakeEndpoint, s3env);
  return Object.fromEntries(Object.entries(steps.uploads).map(([k, t]) => [k, +(t.cpu - steps.convert.cpu).toFixed(2)]));
}

async function measureDisk(spec: RealisticDiskSpec, env: RgwEnv, b: TestBucket, fakeEndpoint: string, s3env: NodeJS.ProcessEnv, fixed: Record<string, number>, passthrough: boolean): Promise<Record<string, unknown>> {
  const src = await buildRealisticDisk(spec);
  const qout = join(WORK, `${spec.name}.qemu.vmdk`);
  const state = ['--state-dir', join(WORK, 'cost-state')];
  const rgw = ['--endpoint', env.endpoint, '--path-style', ...state];
  const steps = await convertAndUploads(src, spec.name, env, b, fakeEndpoint, s3env);
  const qemu = await timed('/usr/bin/qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', src, qout]);
  await rm(qout, { force: true });
  const { convert, uploads, outputBytes } = steps;
  const outGiB = outputBytes / GiB;
  const added = (k: string) => uploads[k]!.cpu - convert.cpu;
  const result: Record<string, unknown> = {
    disk: spec.name,
    virtualBytes: spec.size,
    allocatedBytes: await allocated(src),
    outputBytes,
    convert,
    qemuImg: qemu,
    uploads,
    convertCpuOverQemu: ratio(convert.cpu, qemu.cpu),
    convertWallOverQemu: ratio(convert.wall, qemu.wall),
    uploadAddedCpu: Object.fromEntries(Object.keys(uploads).map((k) => [k, +added(k).toFixed(2)])),
    uploadAddedCpuPerGiBOutput: Object.fromEntries(Object.keys(uploads).map((k) => [k, +(added(k) / outGiB).toFixed(3)])),
    // The same less the fixed per-upload cost measured on the 1 MiB source: what each GiB of output adds.
    uploadMarginalCpuPerGiBOutput: Object.fromEntries(Object.keys(uploads).map((k) => [k, +((added(k) - (fixed[k] ?? 0)) / outGiB).toFixed(3)])),
    convertCpuPerGiBOutput: perGiB(convert.cpu, outputBytes),
  };
  if (passthrough) result.passthrough = await measurePassthrough(src, spec, env, b, fakeEndpoint, s3env, rgw, state);
  return result;
}

async function measurePassthrough(src: string, spec: RealisticDiskSpec, env: RgwEnv, b: TestBucket, fakeEndpoint: string, s3env: NodeJS.ProcessEnv, rgw: string[], state: string[]): Promise<Record<string, unknown>> {
  const parts = ['--part-size', '16MiB', '--concurrency', '4'];
  const r: Record<string, Timing> = {};
  r.vmxferMd5 = await timed(process.execPath, [CLI, 'upload', src, `s3://${b.name}/pass.raw`, '--as', 'original', ...parts, ...rgw], s3env);
  await discard(b, 'pass.raw', spec.size);
  r.vmxferCrc32c = await timed(process.execPath, [CLI, 'upload', src, `s3://${b.name}/pass-crc32c.raw`, '--as', 'original', ...parts, '--endpoint', fakeEndpoint, '--path-style', '--store-checksum', 'crc32c', ...state], s3env);
  await discard(b, 'pass-crc32c.raw', spec.size);
  r.vmxferCrc64 = await timed(process.execPath, [CLI, 'upload', src, `s3://${b.name}/pass-crc.raw`, '--as', 'original', ...parts, '--endpoint', fakeEndpoint, '--path-style', '--store-checksum', 'crc64nvme', ...state], s3env);
  await discard(b, 'pass-crc.raw', spec.size);
  const rc = {
    RCLONE_CONFIG_RGW_TYPE: 's3', RCLONE_CONFIG_RGW_PROVIDER: 'Ceph', RCLONE_CONFIG_RGW_ENDPOINT: env.endpoint,
    RCLONE_CONFIG_RGW_ACCESS_KEY_ID: env.accessKeyId, RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY: env.secretAccessKey, RCLONE_CONFIG_RGW_FORCE_PATH_STYLE: 'true',
  };
  r.rclone = await timed('/usr/bin/rclone', ['copyto', src, `rgw:${b.name}/rclone.raw`, '--s3-chunk-size', '16M', '--s3-upload-concurrency', '4', '--s3-upload-cutoff', '16M'], rc);
  await discard(b, 'rclone.raw', spec.size);
  const cfg = join(WORK, 'cost-aws-config');
  await writeFile(cfg, '[default]\nregion = us-east-1\ns3 =\n  multipart_chunksize = 16MB\n  multipart_threshold = 16MB\n  max_concurrent_requests = 4\n');
  r.awsS3Cp = await timed('/usr/bin/aws', ['s3', 'cp', '--only-show-errors', '--endpoint-url', env.endpoint, src, `s3://${b.name}/aws.raw`], { ...s3env, AWS_CONFIG_FILE: cfg });
  await discard(b, 'aws.raw', spec.size);
  const cpuPerGiB = Object.fromEntries(Object.entries(r).map(([k, t]) => [k, perGiB(t.cpu, spec.size)]));
  const better = Math.min(cpuPerGiB.rclone!, cpuPerGiB.awsS3Cp!);
  return { bytes: spec.size, timings: r, cpuPerGiB, overBetterTool: { md5: ratio(cpuPerGiB.vmxferMd5!, better), crc32c: ratio(cpuPerGiB.vmxferCrc32c!, better), crc64nvme: ratio(cpuPerGiB.vmxferCrc64!, better) } };
}

async function allocated(path: string): Promise<number> {
  const { stdout } = await pexec('du', ['-B1', path]);
  return Number(stdout.split(/\s+/)[0]);
}

function verdict(ok: boolean): string {
  return ok ? 'pass' : 'FAIL';
}

/** An added cost below zero means the two runs differ by more than the upload costs: not a pass. */
function addedVerdict(added: number): string {
  return added < 0 ? `not judged: upload measured cheaper than convert alone (${added}), the run's noise exceeds the upload's cost` : `${verdict(added <= 0.35)} (${added})`;
}

async function main(): Promise<void> {
  for (const tool of ['/usr/bin/rclone', '/usr/bin/aws', '/usr/bin/time', '/usr/bin/qemu-img']) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: run bash bench/setup.sh`);
  }
  await mkdir(WORK, { recursive: true });
  const env = await ensureRgw();
  const fake = await startAwsS3ChecksumFake(env.endpoint);
  const s3env = { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };
  const load0 = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const started = new Date().toISOString();
  const disks: Array<Record<string, unknown>> = [];
  const b = await createTestBucket(env, 'bench-cost');
  let fixed: Record<string, number>;
  try {
    fixed = await measureFixed(env, b, fake.endpoint, s3env);
    for (const spec of DISKS) disks.push(await measureDisk(spec, env, b, fake.endpoint, s3env, fixed, spec.name === 'data-2g'));
  } finally {
    await b.remove();
    await fake.close();
  }
  const targets: Record<string, string> = {};
  for (const d of disks) {
    const c = d.convertCpuOverQemu as number;
    targets[`${d.disk}: default convert CPU <= 0.45x qemu-img`] = `${verdict(c <= 0.45)} (${c}x)`;
    const added = d.uploadAddedCpuPerGiBOutput as Record<string, number>;
    const marginal = d.uploadMarginalCpuPerGiBOutput as Record<string, number>;
    for (const [k, label] of [['md5', 'RGW, Content-MD5'], ['crc32c', 'AWS capability, CRC-32C'], ['crc64nvme', 'AWS, CRC-64/NVME']] as const) {
      targets[`${d.disk}: upload adds <= 0.35 CPU-s per GiB of output (${label})`] = `${addedVerdict(added[k]!)}; less the fixed ${fixed[k]} CPU-s per upload: ${marginal[k]}`;
    }
    const p = d.passthrough as { overBetterTool: Record<string, number> } | undefined;
    if (p) {
      for (const [k, label] of [['md5', 'Content-MD5'], ['crc32c', 'CRC-32C'], ['crc64nvme', 'CRC-64/NVME']] as const) {
        targets[`${d.disk}: passthrough CPU/GiB <= 0.5x the better of aws s3 cp and rclone (${label})`] = `${verdict(p.overBetterTool[k]! <= 0.5)} (${p.overBetterTool[k]}x)`;
      }
    }
  }
  const paper = disks.map((d) => {
    // Convert and upload (AWS capability) per GiB of allocated source data, spread over every core,
    // against the link, which carries the output (output/allocated of it per allocated GiB).
    const uploadCpu = (d.uploads as Record<string, Timing>).crc32c!.cpu;
    const allocGiB = (d.allocatedBytes as number) / GiB;
    const cpuAllocGiBs = CORES / (uploadCpu / allocGiB);
    const linkAllocGiBs = LINK_GIB_S / ((d.outputBytes as number) / (d.allocatedBytes as number));
    return {
      disk: d.disk,
      cpuSecondsPerAllocatedGiB: +(uploadCpu / allocGiB).toFixed(2),
      cpuBoundAllocatedGiBs: +cpuAllocGiBs.toFixed(2),
      linkBoundAllocatedGiBs: +linkAllocGiBs.toFixed(2),
      limitedBy: cpuAllocGiBs < linkAllocGiBs ? 'CPU' : 'network',
    };
  });
  const pass = disks.find((d) => d.passthrough)?.passthrough as { cpuPerGiB: Record<string, number> } | undefined;
  const passPaper = pass && { cpuBoundGiBs: +(CORES / pass.cpuPerGiB.vmxferCrc32c!).toFixed(2), linkGiBs: +LINK_GIB_S.toFixed(2), limitedBy: CORES / pass.cpuPerGiB.vmxferCrc32c! < LINK_GIB_S ? 'CPU' : 'network' };
  const load1 = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  console.log(JSON.stringify({ started, runs: RUNS, loadAverageBefore: load0, loadAverageAfter: load1, cores: (await pexec('nproc')).stdout.trim(), fixedCpuPerUpload: fixed, disks, targets, onPaper16Cores10Gbit: { convertAndUpload: paper, passthrough: passPaper } }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
