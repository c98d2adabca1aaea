/**
 * Measures a 256 MiB multipart upload through S3Sink to the loopback Ceph RGW with 4 parts in
 * flight (8 MiB parts, Content-MD5 on each), then reads it back once, and uploads the same bytes
 * with @aws-sdk/lib-storage (same part size and queue) as the reference in the same run.
 * Prints the figures; no gating.
 * Run: npx tsc -p . && node dist/bench/s3-sink-throughput.js
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { S3Sink } from '../agent/sinks/s3/s3-sink.js';
import { uploadParallelParts } from './parallel-parts.js';
import { createTestBucket, ensureRgw } from '../test/helpers/rgw.js';

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const PART = 8 * MiB;
const IN_FLIGHT = 4;

async function main(): Promise<void> {
  const t0 = performance.now();
  const env = await ensureRgw();
  const ready = performance.now();
  const bucket = await createTestBucket(env, 'bench');
  const sink = new S3Sink({ bucket: bucket.name, endpoint: env.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey } });
  // Distinct incompressible bodies, reused round-robin: generation stays out of the timing.
  const bodies = Array.from({ length: IN_FLIGHT * 2 }, () => randomBytes(PART));
  try {
    const key = 'bench/256MiB.raw';
    const start = performance.now();
    const info = await uploadParallelParts(sink, key, bodies, TOTAL, PART, IN_FLIGHT);
    const count = TOTAL / PART;
    const upSec = (performance.now() - start) / 1000;
    const readStart = performance.now();
    for (let off = 0; off < TOTAL; off += PART) await sink.getRange(key, off, off + PART);
    const downSec = (performance.now() - readStart) / 1000;
    await sink.deleteObject(key);
    const refStart = performance.now();
    const stream = Readable.from((function* () {
      for (let n = 1; n <= count; n++) yield bodies[n % bodies.length]!;
    })());
    await new Upload({ client: sink.client, params: { Bucket: bucket.name, Key: key, Body: stream }, partSize: PART, queueSize: IN_FLIGHT }).done();
    const refSec = (performance.now() - refStart) / 1000;
    await sink.deleteObject(key);
    console.log(JSON.stringify({
      libStorageUploadMBps: +(TOTAL / 1e6 / refSec).toFixed(1),
      rgwReadySec: +((ready - t0) / 1000).toFixed(2),
      bytes: info.size,
      uploadSec: +upSec.toFixed(2),
      uploadMBps: +(TOTAL / 1e6 / upSec).toFixed(1),
      sequentialReadMBps: +(TOTAL / 1e6 / downSec).toFixed(1),
      partSize: PART,
      inFlight: IN_FLIGHT,
    }));
  } finally {
    sink.client.destroy();
    await bucket.remove();
  }
}

await main();
