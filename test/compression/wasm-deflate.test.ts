import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { chooseDeflater } from '../../agent/compression/deflate-zlib.js';
import { loadLibdeflate } from '../../agent/compression/libdeflate-addon.js';
import { nativeEngine, wasmEngine, type LibdeflateEngine } from '../../agent/compression/libdeflate-engine.js';
import { loadWasmDeflate, WASM_DEFLATE_MAX_INPUT, WASM_DEFLATE_PATH } from '../../agent/compression/wasm-deflate.js';
import { zlibStoredLength } from '../../agent/formats/vmdk/zlib-stored.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { tempDir } from '../helpers/tmp.js';

const GRAIN = 64 * 1024;
const load = loadLibdeflate({});
const native = 'addon' in load && load.addon.version === '1.14' ? nativeEngine(load.addon) : undefined;
const NO_NATIVE = native ? false : `the native libdeflate 1.14 addon is not built here (${'reason' in load ? load.reason : `it is ${load.addon.version}`}); run node scripts/build-native.mjs`;
const wasm = wasmEngine();

/** Text-like rows, compressible about 4:1 like logs and configuration files. */
function textGrain(seed: number): Buffer {
  return Buffer.from(Array.from({ length: GRAIN / 32 }, (_, i) => `${seed}:${(i * 7919 + seed) % 10007} entry ok\n`.padEnd(32, ' ')).join('')).subarray(0, GRAIN);
}

/** Real 64 KiB grains: code, data and string tables of the node binary, at spread offsets. */
function realGrains(n: number): Buffer[] {
  const exe = readFileSync(process.execPath);
  const step = Math.floor((exe.length - GRAIN) / n);
  return Array.from({ length: n }, (_, i) => exe.subarray(i * step, i * step + GRAIN));
}

/** Half random, half zeros: deflate shrinks it by about half. */
function halfRandomGrain(): Buffer {
  return Buffer.concat([randomBytes(GRAIN / 2), Buffer.alloc(GRAIN / 2)]);
}

const SAMPLES: Array<[string, Buffer]> = [
  ['all-zero grain', Buffer.alloc(GRAIN)],
  ['random (incompressible) grain', randomBytes(GRAIN)],
  ['half random grain', halfRandomGrain()],
  ['text grain', textGrain(1)],
  ['17 bytes', Buffer.from('seventeen bytes!!')],
  ['2 MiB cluster', Buffer.concat(realGrains(32))],
  ...realGrains(12).map((g, i): [string, Buffer] => [`node binary grain ${i}`, g]),
];

function compressAll(engine: LibdeflateEngine, format: 'zlib' | 'raw', input: Buffer, level: number): Buffer {
  const out = Buffer.alloc(zlibStoredLength(input.length) + 64);
  const n = engine.compress(format, input, out, level);
  assert.ok(n > 0, `${engine.kind} ${format} level ${level}: a stream always fits the stored length + 64`);
  return out.subarray(0, n);
}

test('wasm deflate output inflates (node:zlib) back to the input: zero, random, text and real data, zlib and raw, levels 1-9', () => {
  for (const [what, input] of SAMPLES) {
    for (let level = 1; level <= 9; level++) {
      assert.deepEqual(inflateSync(compressAll(wasm, 'zlib', input, level)), input, `${what} zlib level ${level}`);
      assert.deepEqual(inflateRawSync(compressAll(wasm, 'raw', input, level)), input, `${what} raw level ${level}`);
    }
  }
});

test('wasm deflate answers 0 when the stream is longer than the output, and the stream itself when it fits exactly', () => {
  const text = textGrain(2);
  const stream = compressAll(wasm, 'zlib', text, 2);
  const exact = Buffer.alloc(stream.length);
  assert.equal(wasm.compress('zlib', text, exact, 2), stream.length);
  assert.deepEqual(exact, stream);
  assert.equal(wasm.compress('zlib', text, Buffer.alloc(stream.length - 1), 2), 0);
  assert.equal(wasm.compress('zlib', randomBytes(GRAIN), Buffer.alloc(zlibStoredLength(GRAIN) - 1), 2), 0, 'a random grain does not beat the stored form');
});

test('the wasm module works in its fixed memory: inputs over the window and levels outside 1-9 (10-12 need 8 MiB more) are refused, a too small memory is a typed error', () => {
  assert.throws(() => wasm.compress('zlib', Buffer.alloc(WASM_DEFLATE_MAX_INPUT + 1), Buffer.alloc(16), 1), RangeError);
  assert.throws(() => wasm.compress('zlib', Buffer.alloc(16), Buffer.alloc(64), 10), RangeError);
  assert.throws(() => loadWasmDeflate(WASM_DEFLATE_PATH, 1024 * 1024), (e) => isVmxferError(e) && e.code === 'DEFLATE_WASM_MEMORY');
  // Every level in turn, twice: each level change frees the previous compressor, so memory does not run out.
  for (let round = 0; round < 2; round++) for (let level = 1; level <= 9; level++) compressAll(wasm, 'zlib', textGrain(level), level);
});

test('wasm and the native addon give the same bytes: every sample, zlib and raw, levels 1-9, and the same fit answers', { skip: NO_NATIVE }, () => {
  for (const [what, input] of SAMPLES) {
    for (let level = 1; level <= 9; level++) {
      for (const format of ['zlib', 'raw'] as const) {
        const a = compressAll(wasm, format, input, level);
        assert.deepEqual(compressAll(native!, format, input, level), a, `${what} ${format} level ${level}`);
        // libdeflate alone would refuse an exact fit natively (it wants a machine word of room): both answer by length.
        if (level > 2 || input.length > GRAIN) continue;
        for (const room of [a.length, a.length - 1]) {
          assert.equal(native!.compress(format, input, Buffer.alloc(room), level), wasm.compress(format, input, Buffer.alloc(room), level), `${what} ${format} level ${level} in ${room} bytes`);
        }
      }
    }
  }
});

test('VMXFER_DEFLATE=wasm never falls back to node:zlib: a missing module is DEFLATE_WASM_LOAD; without the addon the default is wasm, not node:zlib', () => {
  const missing = '/nonexistent/deflate.wasm';
  assert.throws(() => chooseDeflater({ VMXFER_DEFLATE: 'wasm' }, missing), (e) => isVmxferError(e) && e.code === 'DEFLATE_WASM_LOAD');
  assert.throws(() => chooseDeflater({ VMXFER_NO_NATIVE: '1' }, missing), (e) => isVmxferError(e) && e.code === 'DEFLATE_WASM_LOAD');
  const d = chooseDeflater({ VMXFER_DEFLATE: 'wasm' });
  assert.equal(d.name, 'libdeflate 1.14 (wasm)');
  assert.equal(d.implementation, 'libdeflate 1.14');
  const text = textGrain(3);
  const out = Buffer.alloc(GRAIN);
  const n = d.compressInto(text, out, 2);
  assert.deepEqual(out.subarray(0, n), compressAll(wasm, 'zlib', text, 2), 'the bytes are the wasm module\'s');
  assert.equal(chooseDeflater({ VMXFER_NO_NATIVE: '1' }).name, 'libdeflate 1.14 (wasm)');
  assert.throws(() => chooseDeflater({ VMXFER_DEFLATE: 'zstd' }), (e) => isVmxferError(e) && e.code === 'DEFLATE_SETTING');
  assert.throws(() => chooseDeflater({ VMXFER_DEFLATE: 'native', VMXFER_NO_NATIVE: '1' }), (e) => isVmxferError(e) && e.code === 'DEFLATE_NATIVE_MISSING');
});

/**
 * A child process that builds the same 64 MiB (real, text, half random, random and zero grains, all
 * derived from fixed seeds and the node binary) and prints the SHA-256 of the stream-optimized grain
 * records encodeGrains makes of it with the deflater VMXFER_DEFLATE picks.
 */
const CHILD = `
import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const here = pathToFileURL(process.argv[1]);
const { encodeGrains } = await import(new URL('../../agent/formats/vmdk/grain-encoder.js', here).href);
const { ZLIB_DEFLATER } = await import(new URL('../../agent/compression/deflate-zlib.js', here).href);
const G = 65536, exe = readFileSync(process.execPath);
const grain = (i) => {
  const kind = i % 8;
  if (kind === 0) return Buffer.alloc(G);
  if (kind === 1 || kind === 2) { const at = (i * 7919 * 512) % (exe.length - G); return exe.subarray(at, at + G); }
  const seeded = (n) => createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), createHash('md5').update(String(i)).digest()).update(Buffer.alloc(n));
  if (kind === 3) return seeded(G);
  if (kind === 4) return Buffer.concat([seeded(G / 2), Buffer.alloc(G / 2)]);
  return Buffer.from(Array.from({ length: G / 32 }, (_, r) => (i + ':' + ((r * 7919 + i) % 10007) + ' entry ok\\n').padEnd(32, ' ')).join('')).subarray(0, G);
};
const hash = createHash('sha256');
for (let batch = 0; batch < 16; batch++) {
  const data = Buffer.concat(Array.from({ length: 64 }, (_, k) => grain(batch * 64 + k)));
  const r = encodeGrains({ firstGrain: batch * 64, data, level: ZLIB_DEFLATER.defaultLevel }, ZLIB_DEFLATER);
  hash.update(r.records);
}
console.log(ZLIB_DEFLATER.name + ' ' + hash.digest('hex'));
`;

function childDigest(env: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, fileURLToPath(import.meta.url)], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('the same 64 MiB gives identical stream-optimized grain records through wasm in two processes (and through the native addon)', () => {
  const first = childDigest({ VMXFER_DEFLATE: 'wasm' });
  assert.match(first, /^libdeflate 1\.14 \(wasm\) [0-9a-f]{64}$/);
  assert.equal(childDigest({ VMXFER_DEFLATE: 'wasm', VMXFER_NO_NATIVE: '1' }), first);
  if (native) assert.equal(childDigest({ VMXFER_DEFLATE: 'native' }), first.replace('(wasm)', '(native)'));
});

const WASM_DIR = new URL('../../../native-wasm/', import.meta.url);
const TOOLCHAIN = readFileSync(new URL('deflate.TOOLCHAIN', WASM_DIR), 'utf8').trim();
const clangVersion = spawnSync('clang', ['--version'], { encoding: 'utf8' });
const NO_CLANG = clangVersion.status === 0 && clangVersion.stdout.split('\n')[0] === TOOLCHAIN ? false : `${TOOLCHAIN} (apt-get install clang lld) is not the clang here: the rebuild cannot be compared byte for byte`;

test('native-wasm/deflate.sha256 matches the checked-in module and the sources it was built from', () => {
  for (const line of readFileSync(new URL('deflate.sha256', WASM_DIR), 'utf8').trim().split('\n')) {
    const [hex, file] = line.split(/\s+/) as [string, string];
    assert.equal(createHash('sha256').update(readFileSync(new URL(file, WASM_DIR))).digest('hex'), hex, `${file} changed since native-wasm/deflate.wasm was built: run scripts/build-wasm-deflate.sh`);
  }
});

test('scripts/build-wasm-deflate.sh rebuilds native-wasm/deflate.wasm byte for byte', { skip: NO_CLANG }, async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const build = spawnSync('bash', [fileURLToPath(new URL('../../../scripts/build-wasm-deflate.sh', import.meta.url)), dir], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    assert.deepEqual(readFileSync(join(dir, 'deflate.wasm')), readFileSync(new URL('deflate.wasm', WASM_DIR)), 'the rebuild differs from the checked-in module');
  } finally {
    await cleanup();
  }
});
