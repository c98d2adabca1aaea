import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadLibdeflate } from '../../agent/compression/libdeflate-addon.js';
import { MiB } from '../../agent/core/units.js';
import { createStreamOptimizedWriter, STREAM_OPTIMIZED_VERSION } from '../../agent/formats/vmdk/stream-optimized-writer.js';
import { createOvaWriter } from '../../agent/formats/ova/writer/ova-writer.js';
import { rawWriter } from '../../agent/formats/raw/raw-writer.js';
import { reproducingWriter } from '../../agent/formats/format-writer.js';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { jsonResult, runAndKill } from '../helpers/killable-cli.js';
import { ossStore } from '../helpers/transfer-stores.js';

/**
 * The checkpoint records the encoder (writer version, compressor and level): a resume regenerates
 * the confirmed parts with the same compressor, or refuses with XFER_RESUME_ENCODER naming the one
 * that is missing, never "the source changed".
 */
const ADDON = loadLibdeflate({});
const NO_ADDON = 'addon' in ADDON && ADDON.addon.version === '1.14' ? false : `the native libdeflate 1.14 addon is not built here (${'reason' in ADDON ? ADDON.reason : ADDON.addon.version}); run node scripts/build-native.mjs`;
const BUCKET = 'vmxfer-resume-encoder';

let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
let oss: Awaited<ReturnType<typeof ossStore>>;

before(async () => {
  work = await tempDir('vmxfer-resume-encoder-');
  source = join(work.dir, 'text.raw');
  // Base64 text: compressible, so libdeflate and node:zlib (and their levels) give different grains.
  await writeFile(source, Buffer.from(randomBytes(6 * MiB).toString('base64')));
  oss = await ossStore(BUCKET);
});
after(async () => {
  await oss?.close();
  await work?.cleanup();
});

function args(key: string, extra: string[] = []): string[] {
  return ['upload', source, oss.url(key), '--as', 'vmdk', '--part-size', '1MiB', '--concurrency', '2', '--state-dir', join(work.dir, 'state'), ...oss.cliFlags(), ...extra];
}

function checkpointFile(key: string): string {
  return join(work.dir, 'state', 'checkpoints', `${checkpointId(source, oss.url(key))}.json`);
}

function objectSha256(key: string): string {
  const obj = oss.fake.store.bucket(BUCKET).objects.get(key);
  assert.ok(obj, `no object ${key}`);
  return createHash('sha256').update(obj.body).digest('hex');
}

describe('encoder identity', () => {
  test('a writer reproduces its own encoder and names what is missing for another compressor or writer version', () => {
    const vmdk = createStreamOptimizedWriter();
    assert.equal(typeof reproducingWriter(vmdk, vmdk.encoder), 'object');
    const missing = reproducingWriter(vmdk, { writer: STREAM_OPTIMIZED_VERSION, compressor: 'libdeflate 0.1', level: 2 });
    assert.equal(typeof missing, 'string');
    assert.match(missing as string, /compressed with libdeflate 0\.1 level 2, which is not available here/);
    assert.match(reproducingWriter(vmdk, { writer: 'vmdk-stream/1', compressor: vmdk.encoder.compressor, level: 2 }) as string, /vmdk-stream\/1/);
    const zlib = reproducingWriter(vmdk, { writer: STREAM_OPTIMIZED_VERSION, compressor: `node:zlib ${process.versions.zlib}`, level: 4 });
    assert.ok(typeof zlib === 'object' && zlib.encoder.compressor === `node:zlib ${process.versions.zlib}` && zlib.encoder.level === 4, 'node:zlib is always available by name');
    const ova = createOvaWriter();
    assert.match(reproducingWriter(ova, { ...ova.encoder, compressor: 'libdeflate 0.1' }) as string, /libdeflate 0\.1/);
    assert.match(reproducingWriter(rawWriter, { writer: 'raw/0' }) as string, /raw\/0/);
  });

  test('the checkpoint of a VMDK upload records writer version, compressor and level: "libdeflate 1.14" level 2 without the addon too', async () => {
    const key = `enc/recorded-${randomBytes(3).toString('hex')}.vmdk`;
    await runAndKill(args(key, ['--bwlimit', '2MiB']), { ...oss.cliEnv, VMXFER_NO_NATIVE: '1' }, checkpointFile(key), 1);
    const { readFile } = await import('node:fs/promises');
    const cp = JSON.parse(await readFile(checkpointFile(key), 'utf8'));
    assert.equal(cp.options.writer, STREAM_OPTIMIZED_VERSION);
    assert.equal(cp.options.compressor, 'libdeflate 1.14');
    assert.equal(cp.options.level, 2);
    const cancel = await vmxfer([...args(key), '--cancel'], { env: oss.cliEnv });
    assert.equal(cancel.code, 0, cancel.stderr);
  });

  test('started with the native addon, resumed without it: the WebAssembly build regenerates the confirmed parts byte-identically; the object equals an uninterrupted wasm upload', { skip: NO_ADDON }, async () => {
    const key = `enc/libdeflate-${randomBytes(3).toString('hex')}.vmdk`;
    const kill = await runAndKill(args(key, ['--bwlimit', '2MiB']), { ...oss.cliEnv, VMXFER_DEFLATE: 'native' }, checkpointFile(key), 2);
    assert.ok(!kill.finished && kill.confirmed.length >= 2);
    const done = await vmxfer([...args(key, ['--resume']), '--json'], { env: { ...oss.cliEnv, VMXFER_NO_NATIVE: '1' } });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(jsonResult(done).partsSkipped, kill.confirmed.length, 'every confirmed part regenerated byte-identically');
    const whole = await vmxfer(args(`${key}.wasm`), { env: { ...oss.cliEnv, VMXFER_DEFLATE: 'wasm' } });
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(objectSha256(key), objectSha256(`${key}.wasm`));
  });

  test('started with node:zlib (VMXFER_DEFLATE=node:zlib), resumed with the default: regenerated with node:zlib, equal to an uninterrupted node:zlib upload', async () => {
    const key = `enc/zlib-${randomBytes(3).toString('hex')}.vmdk`;
    const kill = await runAndKill(args(key, ['--bwlimit', '2MiB']), { ...oss.cliEnv, VMXFER_DEFLATE: 'node:zlib' }, checkpointFile(key), 2);
    assert.ok(!kill.finished && kill.confirmed.length >= 2);
    const done = await vmxfer([...args(key, ['--resume']), '--json'], { env: { ...oss.cliEnv, VMXFER_DEFLATE: '' } });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(jsonResult(done).partsSkipped, kill.confirmed.length, 'every confirmed part regenerated byte-identically');
    const whole = await vmxfer(args(`${key}.whole`), { env: { ...oss.cliEnv, VMXFER_DEFLATE: 'node:zlib' } });
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(objectSha256(key), objectSha256(`${key}.whole`));
    const libdeflate = await vmxfer(args(`${key}.libdeflate`), { env: { ...oss.cliEnv, VMXFER_DEFLATE: '' } });
    assert.equal(libdeflate.code, 0, libdeflate.stderr);
    assert.notEqual(objectSha256(`${key}.libdeflate`), objectSha256(key), 'libdeflate writes other bytes: the resume really used node:zlib');
  });
});
