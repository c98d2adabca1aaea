/**
 * What the SigV4 payload hash costs per GiB of parts: the same 512 MiB multipart upload through
 * S3Sink to the loopback Ceph RGW (16 MiB parts, 4 in flight, Content-MD5 on each), alternately with
 * `x-amz-content-sha256: UNSIGNED-PAYLOAD` (the default) and with `signPayload: true` (the SDK
 * hashes every body with SHA-256 to sign it). Measures this process's CPU seconds (user + sys) per
 * GiB, which RGW's own work (another process) does not enter, and the wall seconds; medians.
 * Run: npx tsc -p . && node dist/bench/s3-part-signing.js [rounds]
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3Sink } from '../agent/sinks/s3/s3-sink.js';
import { uploadParallelParts } from './parallel-parts.js';
import { createTestBucket, ensureRgw, type RgwEnv, type TestBucket } from '../test/helpers/rgw.js';

const MiB = 1024 * 1024;
const TOTAL = 512 * MiB;
const PART = 16 * MiB;
const IN_FLIGHT = 4;

interface Sample {
  cpuPerGiB: number;
  wall: number;
}

async function uploadOnce(env: RgwEnv, bucket: TestBucket, signPayload: boolean, bodies: Buffer[]): Promise<Sample> {
  const sink = new S3Sink({ bucket: bucket.name, endpoint: env.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey }, signPayload });
  const key = `bench/signing-${signPayload}.raw`;
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await uploadParallelParts(sink, key, bodies, TOTAL, PART, IN_FLIGHT);
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await sink.deleteObject(key);
    // RGW's garbage collector (every 10 s, scripts/rgw/start.sh) must free the memstore before the next upload.
    await sleep(15_000);
    return { cpuPerGiB: +((cpu.user + cpu.system) / 1e6 / (TOTAL / 1024 ** 3)).toFixed(2), wall: +wall.toFixed(2) };
  } finally {
    sink.client.destroy();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const env = await ensureRgw();
  const bucket = await createTestBucket(env, 'bench-signing');
  const bodies = Array.from({ length: IN_FLIGHT * 2 }, () => randomBytes(PART));
  const samples: Record<'unsigned' | 'signed', Sample[]> = { unsigned: [], signed: [] };
  try {
    for (let i = 0; i < rounds; i++) {
      samples.unsigned.push(await uploadOnce(env, bucket, false, bodies));
      samples.signed.push(await uploadOnce(env, bucket, true, bodies));
    }
  } finally {
    await bucket.remove();
  }
  const summary = (s: Sample[]) => ({ cpuSecondsPerGiB: median(s.map((x) => x.cpuPerGiB)), wallSeconds: median(s.map((x) => x.wall)) });
  const unsigned = summary(samples.unsigned);
  const signed = summary(samples.signed);
  console.log(JSON.stringify({ rounds, bytes: TOTAL, partSize: PART, inFlight: IN_FLIGHT, unsigned, signed, cpuSavedPerGiB: +(signed.cpuSecondsPerGiB - unsigned.cpuSecondsPerGiB).toFixed(2), samples }, null, 2));
}

await main();
