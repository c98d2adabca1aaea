/**
 * Issue #19 point 5, in one run: what vmxfer costs per GiB against the standard tools, on the
 * realistic disks (a Debian-like GPT Linux disk, a data disk, and the 4 GiB bench disk of
 * vmdk-convert.ts, all from test/helpers/realistic-disk.ts):
 *  1. `vmxfer convert --to vmdk` with its defaults  vs  `qemu-img convert -O vmdk -o subformat=streamOptimized`;
 *  2. `vmxfer upload --as vmdk` to the loopback Ceph RGW (Content-MD5 parts, its default there) and through
 *     the AWS S3 checksum protocol fake (test/helpers/aws-s3-checksum-fake.ts, `--store-checksum crc64nvme`,
 *     AWS's default) vs `vmxfer convert` alone, in vmxfer's own CPU-seconds: GNU time reports the vmxfer
 *     child's rusage only, so the store (radosgw, ceph-osd, the fake in this process) does not count;
 *  3. passthrough (`vmxfer upload --as original`) vs `aws s3 cp` and `rclone copyto`, CPU-s per GiB and wall.
 * Prints every figure, the targets as pass/fail with their ratios, and the paper throughput of one
 * agent on 16 cores and 10 Gbit/s. Tools: bash bench/setup.sh. Run: npx tsc -p . && nice node dist/bench/cost.js
 */
import { execFile } from 'node:child_process';
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
];

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
const perGiB = (cpu: number, bytes: number) => +(cpu / (bytes / GiB)).toFixed(3);

async function measureDisk(spec: RealisticDiskSpec, env: RgwEnv, b: TestBucket, fakeEndpoint: string, s3env: NodeJS.ProcessEnv, passthrough: boolean): Promise<Record<string, unknown>> {
  const src = await buildRealisticDisk(spec);
  const out = join(WORK, `${spec.name}.vmdk`);
  const qout = join(WORK, `${spec.name}.qemu.vmdk`);
  const state = ['--state-dir', join(WORK, 'cost-state')];
  const rgw = ['--endpoint', env.endpoint, '--path-style', ...state];
  const convert = await timed(process.execPath, [CLI, 'convert', src, out, '--to', 'vmdk', '--format', 'raw']);
  const outputBytes = (await stat(out)).size;
  const qemu = await timed('/usr/bin/qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', src, qout]);
  await rm(qout, { force: true });
  await rm(out, { force: true });
  const uploadMd5 = await timed(process.execPath, [CLI, 'upload', src, `s3://${b.name}/${spec.name}.vmdk`, '--as', 'vmdk', '--format', 'raw', ...rgw], s3env);
  await discard(b, `${spec.name}.vmdk`, outputBytes);
  const uploadCrc = await timed(process.execPath, [CLI, 'upload', src, `s3://${b.name}/${spec.name}.crc.vmdk`, '--as', 'vmdk', '--format', 'raw', '--endpoint', fakeEndpoint, '--path-style', '--store-checksum', 'crc64nvme', ...state], s3env);
  await discard(b, `${spec.name}.crc.vmdk`, outputBytes);
  const outGiB = outputBytes / GiB;
  const result: Record<string, unknown> = {
    disk: spec.name,
    virtualBytes: spec.size,
    allocatedBytes: await allocated(src),
    outputBytes,
    convert,
    qemuImg: qemu,
    uploadRgwMd5: uploadMd5,
    uploadAwsCrc64: uploadCrc,
    convertCpuOverQemu: ratio(convert.cpu, qemu.cpu),
    convertWallOverQemu: ratio(convert.wall, qemu.wall),
    uploadAddedCpuPerGiBOutput: { md5: +((uploadMd5.cpu - convert.cpu) / outGiB).toFixed(3), crc64nvme: +((uploadCrc.cpu - convert.cpu) / outGiB).toFixed(3) },
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
  return { bytes: spec.size, timings: r, cpuPerGiB, overBetterTool: { md5: ratio(cpuPerGiB.vmxferMd5!, better), crc64nvme: ratio(cpuPerGiB.vmxferCrc64!, better) } };
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
  try {
    for (const spec of DISKS) disks.push(await measureDisk(spec, env, b, fake.endpoint, s3env, spec.name === 'data-2g'));
  } finally {
    await b.remove();
    await fake.close();
  }
  const targets: Record<string, string> = {};
  for (const d of disks) {
    const c = d.convertCpuOverQemu as number;
    targets[`${d.disk}: default convert CPU <= 0.45x qemu-img`] = `${verdict(c <= 0.45)} (${c}x)`;
    const added = d.uploadAddedCpuPerGiBOutput as { md5: number; crc64nvme: number };
    targets[`${d.disk}: upload adds <= 0.35 CPU-s per GiB of output (RGW, Content-MD5)`] = addedVerdict(added.md5);
    targets[`${d.disk}: upload adds <= 0.35 CPU-s per GiB of output (AWS capability, CRC-64/NVME)`] = addedVerdict(added.crc64nvme);
    const p = d.passthrough as { overBetterTool: { md5: number; crc64nvme: number } } | undefined;
    if (p) {
      targets[`${d.disk}: passthrough CPU/GiB <= 0.5x the better of aws s3 cp and rclone (Content-MD5)`] = `${verdict(p.overBetterTool.md5 <= 0.5)} (${p.overBetterTool.md5}x)`;
      targets[`${d.disk}: passthrough CPU/GiB <= 0.5x the better of aws s3 cp and rclone (CRC-64/NVME)`] = `${verdict(p.overBetterTool.crc64nvme <= 0.5)} (${p.overBetterTool.crc64nvme}x)`;
    }
  }
  const paper = disks.map((d) => {
    // Convert and upload (AWS capability) per GiB of allocated source data, spread over every core,
    // against the link, which carries the output (output/allocated of it per allocated GiB).
    const uploadCpu = (d.uploadAwsCrc64 as Timing).cpu;
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
  const passPaper = pass && { cpuBoundGiBs: +(CORES / pass.cpuPerGiB.vmxferCrc64!).toFixed(2), linkGiBs: +LINK_GIB_S.toFixed(2), limitedBy: CORES / pass.cpuPerGiB.vmxferCrc64! < LINK_GIB_S ? 'CPU' : 'network' };
  const load1 = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  console.log(JSON.stringify({ started, loadAverageBefore: load0, loadAverageAfter: load1, cores: (await pexec('nproc')).stdout.trim(), disks, targets, onPaper16Cores10Gbit: { convertAndUpload: paper, passthrough: passPaper } }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
