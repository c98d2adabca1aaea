import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { libdeflateRawDeflater, nodeZlibRawDeflater } from '../../agent/compression/deflate-raw.js';
import { loadLibdeflate } from '../../agent/compression/libdeflate-addon.js';
import { nativeEngine, wasmEngine, type LibdeflateEngine } from '../../agent/compression/libdeflate-engine.js';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { qemuImg } from '../helpers/qemu.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';

const CLUSTER = 64 * 1024;
const load = loadLibdeflate({});
const noAddon = 'addon' in load && load.addon.version === '1.14' ? false : 'native/libdeflate addon (libdeflate 1.14) not built; run node scripts/build-native.mjs';

/** 40 real 64 KiB clusters spread over the node binary (code, data, string tables). */
function realClusters(): Buffer[] {
  const exe = readFileSync(process.execPath);
  const step = Math.floor((exe.length - CLUSTER) / 40);
  return Array.from({ length: 40 }, (_, i) => exe.subarray(i * step, i * step + CLUSTER));
}

/**
 * Inflates as a reader with qemu's 4 KiB window would if it inflated in pieces (64 bytes of output
 * per inflate() call): a back-reference further than the window then fails.
 */
function inflatesWith4KiBWindowInPieces(raw: Buffer, expected: Buffer): boolean {
  try {
    return inflateRawSync(raw, { windowBits: 12, chunkSize: 64 }).equals(expected);
  } catch {
    return false;
  }
}

/** What qemu's qcow2 zlib decompression does: inflateInit2(-12), one inflate() into a cluster-sized buffer. */
function inflateLikeQemu(raw: Buffer): Buffer {
  return inflateRawSync(raw, { windowBits: 12, chunkSize: CLUSTER });
}

test('node:zlib fallback streams stay within qemu\'s 4 KiB window, even inflated in pieces', () => {
  for (const c of realClusters()) assert.ok(inflatesWith4KiBWindowInPieces(nodeZlibRawDeflater.compress(c, CLUSTER - 1)!, c));
});

/** The WebAssembly build always; the native addon where it is built. */
const engines: LibdeflateEngine[] = [wasmEngine(), ...('addon' in load ? [nativeEngine(load.addon)] : [])];

for (const engine of engines) test(`libdeflate (${engine.kind}) streams for 64 KiB clusters refer back further than 4 KiB, and a one-call inflate with a 4 KiB window (qemu's) reads them`, () => {
  const deflater = libdeflateRawDeflater(engine);
  const clusters = realClusters();
  const raws = clusters.map((c) => deflater.compress(c, CLUSTER - 1)!);
  const beyondWindow = raws.filter((raw, i) => !inflatesWith4KiBWindowInPieces(raw, clusters[i]!)).length;
  assert.ok(beyondWindow >= clusters.length / 2, `only ${beyondWindow} of ${clusters.length} clusters need more than a 4 KiB window: the test would not exercise it`);
  raws.forEach((raw, i) => assert.deepEqual(inflateLikeQemu(raw), clusters[i]));
});

/** convert --to qcow2 --compress with the real CLI; qemu-img check and compare against the source. */
async function convertQcow2(env: NodeJS.ProcessEnv): Promise<string> {
  const src = await buildRealisticDisk(SMALL_DISK);
  const { dir, cleanup } = await tempDir();
  try {
    const out = join(dir, 'c.qcow2');
    const r = await vmxfer(['convert', src, out, '--to', 'qcow2', '--compress', '--format', 'raw', '--json', '--no-source-hash'], { env });
    assert.equal(r.code, 0, r.stderr);
    const check = await qemuImg(['check', '-f', 'qcow2', '--output=json', out]);
    assert.ok(JSON.parse(check)['compressed-clusters'] > 100, `qemu-img check finds compressed clusters: ${check}`);
    assert.match(await qemuImg(['compare', '-f', 'raw', '-F', 'qcow2', src, out]), /Images are identical/);
    return JSON.parse(r.stdout.trim().split('\n').pop()!).compressor;
  } finally {
    await cleanup();
  }
}

test('qemu-img reads a qcow2 whose compressed clusters the native libdeflate wrote (check, compare identical); --json names the compressor', { skip: noAddon }, async () => {
  assert.equal(await convertQcow2({ VMXFER_NO_NATIVE: '', VMXFER_DEFLATE: '' }), 'libdeflate 1.14 (native)');
});

test('qemu-img reads a qcow2 whose compressed clusters the WebAssembly libdeflate wrote (VMXFER_NO_NATIVE=1: the default without the addon)', async () => {
  assert.equal(await convertQcow2({ VMXFER_NO_NATIVE: '1', VMXFER_DEFLATE: '' }), 'libdeflate 1.14 (wasm)');
});

test('with VMXFER_DEFLATE=node:zlib the qcow2 writer uses node:zlib, and qemu-img reads the result', async () => {
  assert.equal(await convertQcow2({ VMXFER_DEFLATE: 'node:zlib' }), 'node:zlib');
});
