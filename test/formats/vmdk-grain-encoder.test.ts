import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { encodeGrains, looksIncompressible, MAX_GRAIN_RECORD_BYTES } from '../../agent/formats/vmdk/grain-encoder.js';
import { adler32, zlibStored, zlibStoredLength } from '../../agent/formats/vmdk/zlib-stored.js';

const GRAIN = 65536;

function textGrain(seed: number): Buffer {
  const words = ['sector', 'grain', 'marker', 'footer', 'table', 'directory', 'stream', 'optimized'];
  let s = '';
  for (let i = 0; s.length < GRAIN; i++) s += words[(i * 7 + seed) % words.length] + (i % 11 === 0 ? '\n' : ' ');
  return Buffer.from(s.slice(0, GRAIN), 'latin1');
}

/** Text from a 2000-word random vocabulary: compresses like prose, so its deflate output is dense. */
function variedText(n: number): Buffer {
  const r = randomBytes(64 * 1024);
  const vocab = Array.from({ length: 2000 }, (_, i) => r.toString('hex', i * 4, i * 4 + 2 + (r[i]! % 3)));
  let s = '';
  for (let i = 0; s.length < n; i++) s += vocab[((r[(i * 2) % r.length]! << 8) | r[(i * 2 + 1) % r.length]!) % vocab.length] + ' ';
  return Buffer.from(s, 'latin1');
}

/** Splits an encoder result into per-grain records and checks each marker's fields and padding. */
function decodeRecord(record: Buffer): { lba: number; zlib: Buffer } {
  const lba = Number(record.readBigUInt64LE(0));
  const size = record.readUInt32LE(8);
  assert.equal(record.length % 512, 0, 'records are whole sectors');
  assert.ok(12 + size <= record.length && record.length - (12 + size) < 512, `marker size ${size} does not fit record of ${record.length}`);
  assert.ok(record.subarray(12 + size).every((b) => b === 0), 'padding after the zlib stream is zero');
  return { lba, zlib: record.subarray(12, 12 + size) };
}

test('an all-zero grain produces no record', () => {
  const r = encodeGrains({ firstGrain: 3, data: Buffer.alloc(GRAIN), level: 1 });
  assert.deepEqual(Array.from(r.recordBytes), [0]);
  assert.equal(r.records.length, 0);
  assert.equal(r.storedGrains, 0);
});

test('a compressible grain is deflated into a marked record that inflates back to it', () => {
  const grain = textGrain(1);
  const r = encodeGrains({ firstGrain: 5, data: grain, level: 1 });
  assert.equal(r.storedGrains, 0);
  assert.equal(r.records.length, r.recordBytes[0]);
  assert.ok(r.records.length < GRAIN / 4, `text grain should shrink, got ${r.records.length} bytes`);
  const { lba, zlib } = decodeRecord(r.records);
  assert.equal(lba, 5 * 128);
  assert.ok(inflateSync(zlib).equals(grain));
});

test('an incompressible grain is written as stored blocks without growing past the bound', () => {
  const grain = randomBytes(GRAIN);
  const r = encodeGrains({ firstGrain: 0, data: grain, level: 1 });
  assert.equal(r.storedGrains, 1);
  assert.equal(r.records.length, MAX_GRAIN_RECORD_BYTES);
  const { zlib } = decodeRecord(r.records);
  assert.equal(zlib.length, zlibStoredLength(GRAIN));
  assert.deepEqual([zlib[0], zlib[1]], [0x78, 0x01], 'zlib header: deflate, 32 KiB window, FCHECK valid');
  assert.equal(zlib[2]! & 0x06, 0, 'first deflate block has BTYPE 00 (stored)');
  assert.ok(inflateSync(zlib).equals(grain));
});

test('a mixed batch keeps grain order, LBAs and per-grain record sizes', () => {
  const grains = [textGrain(2), Buffer.alloc(GRAIN), randomBytes(GRAIN), Buffer.concat([textGrain(3).subarray(0, 1000), Buffer.alloc(GRAIN - 1000)])];
  const r = encodeGrains({ firstGrain: 1000, data: Buffer.concat(grains), level: 6 });
  assert.equal(r.recordBytes.length, 4);
  assert.equal(r.recordBytes[1], 0);
  assert.equal(r.storedGrains, 1);
  let at = 0;
  for (const [i, grain] of grains.entries()) {
    const bytes = r.recordBytes[i]!;
    if (bytes === 0) continue;
    const { lba, zlib } = decodeRecord(r.records.subarray(at, at + bytes));
    assert.equal(lba, (1000 + i) * 128, `grain ${i} LBA`);
    assert.ok(inflateSync(zlib).equals(grain), `grain ${i} round trip`);
    at += bytes;
  }
  assert.equal(at, r.records.length);
});

test('the entropy check flags random and deflated data, not text, code-like or half-empty grains', () => {
  assert.equal(looksIncompressible(randomBytes(GRAIN)), true);
  assert.equal(looksIncompressible(deflateSync(randomBytes(GRAIN)).subarray(0, GRAIN)), true);
  assert.equal(looksIncompressible(deflateSync(variedText(1 << 20), { level: 9 }).subarray(0, GRAIN)), true, 'deflated text');
  assert.equal(looksIncompressible(textGrain(6)), false);
  const halfRandom = Buffer.concat([randomBytes(GRAIN / 2), Buffer.alloc(GRAIN / 2)]);
  assert.equal(looksIncompressible(halfRandom), false);
  // ...and such a grain is then deflated, not stored, because deflate does shrink it.
  const r = encodeGrains({ firstGrain: 0, data: halfRandom, level: 1 });
  assert.equal(r.storedGrains, 0);
  assert.ok(r.records.length < GRAIN * 0.6);
});

test('level 0 stores every non-zero grain', () => {
  const r = encodeGrains({ firstGrain: 0, data: Buffer.concat([textGrain(4), textGrain(5)]), level: 0 });
  assert.equal(r.storedGrains, 2);
  assert.equal(r.records.length, 2 * MAX_GRAIN_RECORD_BYTES);
});

test('a batch that is not whole grains is refused', () => {
  assert.throws(() => encodeGrains({ firstGrain: 0, data: Buffer.alloc(GRAIN + 512), level: 1 }), RangeError);
});

test('stored zlib streams inflate back for lengths around the 65535-byte block limit', () => {
  for (const n of [0, 1, 65535, 65536, 131071, 200000]) {
    const data = randomBytes(n);
    const z = zlibStored(data);
    assert.equal(z.length, zlibStoredLength(n), `length for ${n}`);
    assert.ok(inflateSync(z).equals(data), `round trip for ${n}`);
  }
});

test('adler32 matches RFC 1950 reference values', () => {
  assert.equal(adler32(Buffer.from('Wikipedia', 'latin1')), 0x11e60398);
  assert.equal(adler32(Buffer.alloc(0)), 1);
  // Long input exercises the modular reduction every 5552 bytes: zlib's own checksum is the oracle.
  const long = Buffer.alloc(100000, 0xff);
  const zlibOwn = deflateSync(long);
  assert.equal(adler32(long), zlibOwn.readUInt32BE(zlibOwn.length - 4));
});
