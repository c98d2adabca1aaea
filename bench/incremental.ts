/**
 * Full upload vs incremental re-upload on the loopback Ceph RGW: a 1 GiB sparse raw disk (256 random
 * 1 MiB extents), uploaded in full (the anchor, measured in the same run), then with --incremental
 * after 1% and after 10% of its 1 MiB blocks changed in scattered places. Each run is the real CLI
 * under GNU time (the child's own wall and CPU seconds); bytes sent are the CLI's `bytesSent`, and
 * the UploadPartCopy count is RGW's own access log. Prints JSON and the ratios to the full upload.
 * Each change is uploaded twice, to two objects that both had the same first pass: a plain
 * --incremental pass (reads and hashes the whole source) and one with a changed-block input
 * (--changed-blocks, the list of the changed blocks: reads only the parts they touch); bytesRead is
 * the result's incremental.bytesRead (the whole source for the plain pass).
 * Run: npx tsc -p . && node dist/bench/incremental.js
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestBucket, ensureRgw } from '../test/helpers/rgw.js';
import { tempDir, REPO_ROOT } from '../test/helpers/tmp.js';
import { changeBlocks, touchedParts, writeSparseDisk } from '../test/helpers/changed-disk.js';
import { rgwUploadRequests } from '../test/helpers/rgw-request-log.js';

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const BLOCK = MiB;
const PART = 8 * MiB;

interface Run {
  wallSec: number;
  cpuSec: number;
  bytesSent: number;
  partsSent: number;
  partsCopied: number;
  bytesRead: number;
  uploadId: string;
}

async function timed(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const timeFile = join(REPO_ROOT, '.tmp', `bench-incremental-time-${process.pid}`);
  const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S', process.execPath, join(REPO_ROOT, 'bin', 'vmxfer.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`vmxfer ${args.join(' ')} exited ${code}: ${err}`);
  const [wall, user, sys] = (await readFile(timeFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
  await rm(timeFile, { force: true });
  const result = JSON.parse(out.trim().split('\n').reverse().find((l) => l.includes('"type":"result"'))!);
  return { wallSec: wall!, cpuSec: +(user! + sys!).toFixed(2), bytesSent: result.bytesSent, partsSent: result.partsSent, partsCopied: result.partsCopied, bytesRead: result.incremental?.bytesRead ?? result.objectSize, uploadId: result.uploadId };
}

async function main(): Promise<void> {
  const env = await ensureRgw();
  const bucket = await createTestBucket(env, 'bench-incr');
  const work = await tempDir('vmxfer-bench-incr-');
  const cliEnv = { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: '' };
  const src = join(work.dir, 'disk.raw');
  const common = ['--as', 'raw', '--part-size', '8MiB', '--state-dir', join(work.dir, 'state'), '--json', '--endpoint', env.endpoint, '--path-style'];
  try {
    await writeSparseDisk(src, SIZE, 256, BLOCK);
    const full = await timed(['upload', src, `s3://${bucket.name}/full.raw`, ...common], cliEnv);
    await bucket.client.send(new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: bucket.name, Key: 'full.raw' }));
    const key = `s3://${bucket.name}/incr.raw`;
    const firstPass = await timed(['upload', src, key, '--incremental', ...common], cliEnv);
    const listKey = `s3://${bucket.name}/cbt.raw`;
    await timed(['upload', src, listKey, '--incremental', ...common], cliEnv);
    const list = join(work.dir, 'changed.json');
    const rows: Record<string, unknown>[] = [];
    for (const percent of [1, 10]) {
      const changed = await changeBlocks(src, SIZE, (SIZE / BLOCK) * (percent / 100), BLOCK);
      const touched = touchedParts(changed, BLOCK, PART);
      const pass = await timed(['upload', src, key, '--incremental', ...common], cliEnv);
      const log = await rgwUploadRequests(env.stateDir, pass.uploadId);
      const copiesAtRgw = log.filter((e) => e.operation === 'UploadPartCopy' && e.status === 200).length;
      await writeFile(list, JSON.stringify({ version: 1, virtualSize: SIZE, extents: changed.map((offset) => ({ offset, length: BLOCK })) }));
      const withList = await timed(['upload', src, listKey, '--incremental', '--changed-blocks', list, ...common], cliEnv);
      const listLog = await rgwUploadRequests(env.stateDir, withList.uploadId);
      rows.push({
        changedPercent: percent,
        changedBlocks: changed.length,
        touchedParts: touched.size,
        ...pass,
        copiesAtRgw,
        wallRatio: +(pass.wallSec / full.wallSec).toFixed(2),
        cpuRatio: +(pass.cpuSec / full.cpuSec).toFixed(2),
        bytesRatio: +(pass.bytesSent / full.bytesSent).toFixed(3),
        withChangedBlocks: {
          ...withList,
          copiesAtRgw: listLog.filter((e) => e.operation === 'UploadPartCopy' && e.status === 200).length,
          wallRatio: +(withList.wallSec / full.wallSec).toFixed(2),
          cpuRatio: +(withList.cpuSec / full.cpuSec).toFixed(2),
          bytesRatio: +(withList.bytesSent / full.bytesSent).toFixed(3),
          readRatio: +(withList.bytesRead / SIZE).toFixed(3),
        },
      });
    }
    console.log(JSON.stringify({ sizeBytes: SIZE, partSize: PART, full, firstIncrementalPass: { ...firstPass, wallRatio: +(firstPass.wallSec / full.wallSec).toFixed(2), cpuRatio: +(firstPass.cpuSec / full.cpuSec).toFixed(2) }, passes: rows }, null, 2));
  } finally {
    await bucket.remove();
    await work.cleanup();
  }
}

await main();
