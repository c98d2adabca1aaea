import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { ADDON_PATH, loadLibdeflate, type LibdeflateAddon } from '../../agent/compression/libdeflate-addon.js';

const GRAIN = 64 * 1024;
const load = loadLibdeflate({});
const addon: LibdeflateAddon | undefined = 'addon' in load ? load.addon : undefined;
const skip = addon ? false : `native/libdeflate addon not built (${'reason' in load ? load.reason : ''}); run node scripts/build-native.mjs`;

/** Text-like bytes: repeated words with varying numbers, what deflate shrinks well. */
function text(bytes: number): Buffer {
  const words: string[] = [];
  for (let i = 0; words.join(' ').length < bytes; i++) words.push(`line ${i} of the grain, value=${(i * 7919) % 1000}`);
  return Buffer.from(words.join(' ')).subarray(0, bytes);
}

/** Real file bytes: a 64 KiB grain from the middle of the node binary (machine code and tables). */
function realGrain(): Buffer {
  const exe = readFileSync(process.execPath);
  return exe.subarray(exe.length >> 1, (exe.length >> 1) + GRAIN);
}

function compress(a: LibdeflateAddon, input: Uint8Array, level: number, room = a.zlibCompressBound(input.length)): Buffer {
  const out = Buffer.alloc(room);
  const n = a.zlibCompress(input, out, level);
  assert.ok(n > 0, `level ${level}: ${input.length} bytes fit in the bound`);
  return out.subarray(0, n);
}

test('zlibCompress and deflateCompress output inflates (node:zlib) to the input: random, zero, text and real grains, every level 0-12', { skip }, () => {
  const grains = { random: randomBytes(GRAIN), zero: Buffer.alloc(GRAIN), text: text(GRAIN), real: realGrain() };
  for (const [name, grain] of Object.entries(grains)) {
    for (let level = 0; level <= 12; level++) {
      const z = compress(addon!, grain, level);
      assert.deepEqual(inflateSync(z), grain, `${name} at level ${level}`);
      assert.ok(z.length <= addon!.zlibCompressBound(GRAIN), `${name} at level ${level} within the bound`);
      const raw = Buffer.alloc(addon!.zlibCompressBound(GRAIN));
      assert.deepEqual(inflateRawSync(raw.subarray(0, addon!.deflateCompress(grain, raw, level))), grain, `${name} raw deflate at level ${level}`);
    }
  }
  assert.ok(compress(addon!, grains.text, 6).length < GRAIN / 4, 'text shrinks');
  assert.ok(compress(addon!, grains.zero, 1).length < 200, 'zeros shrink to almost nothing');
});

test('zlibCompress buffer-size edges: the room libdeflate needs, empty output, empty and 1-byte input, views at offsets', { skip }, () => {
  const a = addon!;
  const grain = text(GRAIN);
  const stream = compress(a, grain, 6);
  // libdeflate writes whole machine words, so it may want a few bytes of room past the stream's end
  // (9 with 1.14): below that it answers 0; from there on the same stream, never a truncated one.
  const results = Array.from({ length: 33 }, (_, k) => a.zlibCompress(grain, Buffer.alloc(stream.length - 1 + k), 6));
  const firstFit = results.findIndex((n) => n > 0);
  assert.ok(firstFit >= 1 && firstFit <= 16, `fits from ${firstFit - 1} bytes of slack`);
  assert.ok(results.slice(0, firstFit).every((n) => n === 0), 'too little room gives 0');
  assert.ok(results.slice(firstFit).every((n) => n === stream.length), 'enough room gives the whole stream');
  const out = Buffer.alloc(stream.length + 16);
  assert.deepEqual(out.subarray(0, a.zlibCompress(grain, out, 6)), stream, 'the same bytes whatever the room');
  assert.equal(a.zlibCompress(grain, Buffer.alloc(0), 6), 0, 'an empty output does not fit');
  assert.equal(a.zlibCompress(randomBytes(GRAIN), Buffer.alloc(GRAIN), 6), 0, 'random data does not fit in its own length');
  assert.deepEqual(inflateSync(compress(a, new Uint8Array(0), 6)), Buffer.alloc(0), 'empty input');
  assert.deepEqual(inflateSync(compress(a, Buffer.from([0x5a]), 1)), Buffer.from([0x5a]), '1-byte input');
  // Views into larger buffers, as the grain encoder passes them: only the view is read and written.
  const backing = Buffer.alloc(3 * GRAIN, 0xee);
  grain.copy(backing, GRAIN + 13);
  const target = Buffer.alloc(GRAIN + 100, 0xcc);
  const view = target.subarray(50, 50 + GRAIN);
  const n = a.zlibCompress(backing.subarray(GRAIN + 13, 2 * GRAIN + 13), view, 4);
  assert.deepEqual(inflateSync(view.subarray(0, n)), grain);
  assert.ok(target.subarray(0, 50).every((b) => b === 0xcc) && target.subarray(50 + GRAIN).every((b) => b === 0xcc), 'nothing written outside the view');
  assert.ok(a.zlibCompressBound(GRAIN) >= GRAIN + 6 && a.zlibCompressBound(0) > 0);
});

test('zlibCompress rejects bad arguments with TypeError/RangeError, never a crash', { skip }, () => {
  const a = addon!;
  const out = Buffer.alloc(1024);
  for (const level of [-1, 13, 1.5, Number.NaN]) assert.throws(() => a.zlibCompress(Buffer.alloc(8), out, level), RangeError, `level ${level}`);
  assert.throws(() => a.zlibCompress('text' as unknown as Uint8Array, out, 1), TypeError);
  assert.throws(() => a.zlibCompress(new Uint16Array(4) as unknown as Uint8Array, out, 1), TypeError);
  assert.throws(() => a.zlibCompress(Buffer.alloc(8), out, '1' as unknown as number), TypeError);
  assert.throws(() => (a.zlibCompress as (...x: unknown[]) => number)(Buffer.alloc(8), out), TypeError);
  assert.throws(() => a.zlibCompressBound(-1), RangeError);
  assert.match(a.version, /^\d+\.\d+/);
});

test('worker threads each get their own compressors: concurrent compression in 3 threads inflates correctly', { skip }, async () => {
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { inflateSync } = require('node:zlib');
    const a = require(workerData.path);
    let ok = 0;
    for (let i = 0; i < 40; i++) {
      const input = Buffer.alloc(65536);
      for (let j = 0; j < input.length; j++) input[j] = (j * (workerData.seed + i)) % 251 > 120 ? 65 + (j % 7) : j % 13;
      const out = Buffer.alloc(a.zlibCompressBound(input.length));
      const n = a.zlibCompress(input, out, 1 + ((i + workerData.seed) % 9));
      if (n > 0 && inflateSync(out.subarray(0, n)).equals(input)) ok++;
    }
    parentPort.postMessage(ok);`;
  const results = await Promise.all(
    [1, 2, 3].map(
      (seed) =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(src, { eval: true, workerData: { path: ADDON_PATH, seed } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  assert.deepEqual(results, [40, 40, 40]);
});
