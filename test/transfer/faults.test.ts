import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { MiB } from '../../agent/core/units.js';
import { downloadObject } from '../../agent/transfer/download.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { uploadImage } from '../../agent/transfer/upload.js';
import { sha256File } from '../helpers/hash.js';
import { startFaultProxy, type FaultProxy, type ProxyFault } from '../helpers/fault-proxy.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { ossStore, s3Store } from '../helpers/transfer-stores.js';

/**
 * (c) A fault-injecting proxy between vmxfer and a real Ceph RGW: random 500 InternalError and
 * 503 SlowDown, connections reset mid-body, a 2-second stall and one part with a flipped byte.
 * The job completes with identical bytes; the flipped byte is caught by RGW's payload check
 * (XAmzContentSHA256Mismatch, mapped to STORE_BAD_DIGEST) and the part sent again, as the proxy's log shows. (d) Permanent errors fail fast.
 */
let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
/** A failure without retries takes the CLI's start-up plus a few requests: start-up measured here, on this machine's load. */
let fastFailMs = 5000;
let s3: Awaited<ReturnType<typeof s3Store>>;
let proxy: FaultProxy;

before(async () => {
  const t0 = performance.now();
  await vmxfer(['--version']);
  // The retry policy waits 200 ms, 400 ms, 800 ms, ... between attempts: four seconds over start-up means it retried.
  fastFailMs = performance.now() - t0 + 4000;
  work = await tempDir('vmxfer-faults-');
  source = join(work.dir, 'source.raw');
  await writeFile(source, randomBytes(8 * 5 * MiB + 4096));
  s3 = await s3Store('faults');
  proxy = await startFaultProxy(s3.env.endpoint);
});
after(async () => {
  await proxy?.close();
  await s3?.close();
  await work?.cleanup();
});

/** A seeded plan: the flip on part 3's first PUT, a stall on part 5's first PUT, ~25% random faults elsewhere. */
function chaos(seed: number) {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const firstPut = new Set<number>();
  return ({ method, partNumber }: { method: string; partNumber: number | undefined }): ProxyFault | undefined => {
    if (method === 'PUT' && partNumber !== undefined && !firstPut.has(partNumber)) {
      firstPut.add(partNumber);
      if (partNumber === 3) return { kind: 'flip' };
      if (partNumber === 5) return { kind: 'stall', ms: 2000 };
    }
    const r = rand();
    if (r < 0.08) return { kind: 'status', status: 500, code: 'InternalError' };
    if (r < 0.16) return { kind: 'status', status: 503, code: 'SlowDown' };
    if (r < 0.25) return { kind: 'reset' };
    return undefined;
  };
}

test('upload and download through random 500/503, resets mid-body, a 2 s stall and a flipped byte: identical bytes, flip caught and retried', async () => {
  const key = 'faults/disk.raw';
  const url = s3.url(key);
  const sink = s3.sink(undefined, proxy.endpoint);
  const corrupted: number[] = [];
  proxy.setPlan(chaos(7));
  const up = await uploadImage({
    source, destination: url, key, sink, as: 'original', partSize: 5 * MiB, concurrency: 3, resume: false,
    checkpoints: new FileCheckpointStore<UploadCheckpoint>(join(work.dir, 'cp'), isUploadCheckpoint),
    onCorruptedPart: (attempt) => corrupted.push(attempt),
  });
  assert.equal(up.verified, 'etag');
  const flips = proxy.log.filter((e) => e.fault === 'flip');
  assert.equal(flips.length, 1);
  assert.equal(flips[0]!.status, 400, 'RGW refused the corrupted body (XAmzContentSHA256Mismatch: the signed payload hash, checked like Content-MD5)');
  const part3 = proxy.log.filter((e) => e.method === 'PUT' && e.partNumber === 3);
  assert.ok(part3.length >= 2 && part3.at(-1)!.status === 200, 'part 3 was sent again after BadDigest and accepted');
  assert.ok(corrupted.length >= 1, 'the engine saw the corruption');
  assert.ok(proxy.log.some((e) => e.fault === 'stall' && e.status === 200), 'the stalled request completed');
  const faults = proxy.log.filter((e) => e.fault === 'status' || e.fault === 'reset');
  assert.ok(faults.length >= 2, `random faults were injected (${faults.length})`);
  const dst = join(work.dir, 'down.raw');
  const down = await downloadObject({
    url, key, sink, destination: dst, concurrency: 3, resume: false, rangeSize: 4 * MiB,
    checkpoints: new FileCheckpointStore<DownloadCheckpoint>(join(work.dir, 'dl'), isDownloadCheckpoint),
  });
  proxy.setPlan(undefined);
  assert.equal(down.verified, 'etag', 'ranges of 4 MiB do not match the 5 MiB parts: verified by reading the file back');
  assert.equal(await sha256File(dst), await sha256File(source));
  assert.equal(await s3.objectSha256(key), await sha256File(source));
  await s3.sink().deleteObject(key);
});

for (const [what, env, code] of [
  ['a wrong secret key', { AWS_SECRET_ACCESS_KEY: 'wrong-secret-0123456789' }, /SignatureDoesNotMatch/],
  ['an unknown access key', { AWS_ACCESS_KEY_ID: 'NOSUCHKEY0123456789' }, /InvalidAccessKeyId/],
] as const) {
  test(`S3 with ${what} fails fast with the store's code and exit ${EXIT_CODES.remote}`, async () => {
    const t0 = performance.now();
    const r = await vmxfer(['upload', source, s3.url('perm/x.raw'), '--state-dir', join(work.dir, 'st'), ...s3.cliFlags()], { env: { ...s3.cliEnv, ...env } });
    assert.equal(r.code, EXIT_CODES.remote, r.stderr);
    assert.match(r.stderr, code);
    assert.ok(performance.now() - t0 < fastFailMs, `failed in ${Math.round(performance.now() - t0)} ms (bound ${Math.round(fastFailMs)} ms)`);
  });
}

test(`S3 and OSS NoSuchBucket, OSS AccessDenied-class errors fail fast with exit ${EXIT_CODES.remote}`, async () => {
  const oss = await ossStore('vmxfer-perm');
  try {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['upload', source, `s3://${s3.bucket.name}-missing/x.raw`, ...s3.cliFlags()], s3.cliEnv, /NoSuchBucket/],
      [['download', `s3://${s3.bucket.name}-missing/x.raw`, join(work.dir, 'x'), ...s3.cliFlags()], s3.cliEnv, /NoSuchBucket|NoSuchKey|NotFound/],
      [['upload', source, 'oss://vmxfer-perm-missing/x.raw', ...oss.cliFlags()], oss.cliEnv, /NoSuchBucket/],
      [['upload', source, oss.url('x.raw'), ...oss.cliFlags()], { ...oss.cliEnv, OSS_ACCESS_KEY_ID: 'LTAInosuchkey' }, /InvalidAccessKeyId/],
    ];
    for (const [args, env, code] of cases) {
      const t0 = performance.now();
      const r = await vmxfer([...args, '--state-dir', join(work.dir, 'st')], { env });
      assert.equal(r.code, EXIT_CODES.remote, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, code);
      assert.ok(performance.now() - t0 < fastFailMs, `${args[0]} failed in ${Math.round(performance.now() - t0)} ms (bound ${Math.round(fastFailMs)} ms)`);
    }
  } finally {
    await oss.close();
  }
});
