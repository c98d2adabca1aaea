import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { chooseDeflater, LIBDEFLATE_DEFAULT_LEVEL, ZLIB_DEFAULT_LEVEL } from '../../agent/compression/deflate-zlib.js';
import { loadLibdeflate } from '../../agent/compression/libdeflate-addon.js';
import { encodeGrains } from '../../agent/formats/vmdk/grain-encoder.js';

const GRAIN = 64 * 1024;
const ADDON = loadLibdeflate({});
const addonBuilt = 'addon' in ADDON && ADDON.addon.version === '1.14';

function textGrains(n: number): Buffer {
  return Buffer.from(Array.from({ length: (n * GRAIN) / 16 }, (_, i) => `row ${(i * 31) % 977} ok;`.padEnd(16, '.')).join('')).subarray(0, n * GRAIN);
}

/** Inflates every record of an encodeGrains result back into grains (marker: uint64 LBA, uint32 size). */
function decodeRecords(records: Buffer, recordBytes: Uint32Array): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const bytes of recordBytes) {
    if (bytes === 0) continue;
    out.push(inflateSync(records.subarray(at + 12, at + 12 + records.readUInt32LE(at + 8))));
    at += bytes;
  }
  return out;
}

test('VMXFER_DEFLATE=node:zlib selects node:zlib with its own default level and the reason', () => {
  const d = chooseDeflater({ VMXFER_DEFLATE: 'node:zlib' });
  assert.equal(d.name, 'node:zlib');
  assert.equal(d.defaultLevel, ZLIB_DEFAULT_LEVEL);
  assert.equal(d.fallbackReason, 'VMXFER_DEFLATE=node:zlib');
});

test('VMXFER_NO_NATIVE=1 selects the WebAssembly libdeflate, with libdeflate\'s default level, recorded as "libdeflate 1.14"', () => {
  const d = chooseDeflater({ VMXFER_NO_NATIVE: '1' });
  assert.equal(d.name, 'libdeflate 1.14 (wasm)');
  assert.equal(d.implementation, 'libdeflate 1.14');
  assert.equal(d.defaultLevel, LIBDEFLATE_DEFAULT_LEVEL);
  assert.equal(d.fallbackReason, 'VMXFER_NO_NATIVE=1');
});

test('without VMXFER_NO_NATIVE the built addon is chosen, named with libdeflate\'s version, recorded like the WebAssembly build', { skip: addonBuilt ? false : 'native/libdeflate addon not built; run node scripts/build-native.mjs' }, () => {
  const d = chooseDeflater({});
  assert.equal(d.name, 'libdeflate 1.14 (native)');
  assert.equal(d.implementation, 'libdeflate 1.14');
  assert.equal(d.defaultLevel, LIBDEFLATE_DEFAULT_LEVEL);
  assert.equal(d.fallbackReason, undefined);
});

test('every deflater: encodeGrains records inflate to the grains; random grains are stored; a stream that does not fit gives 0', () => {
  const deflaters = [chooseDeflater({ VMXFER_DEFLATE: 'node:zlib' }), chooseDeflater({ VMXFER_DEFLATE: 'wasm' }), ...(addonBuilt ? [chooseDeflater({})] : [])];
  const data = Buffer.concat([textGrains(3), Buffer.alloc(GRAIN), randomBytes(GRAIN)]);
  for (const d of deflaters) {
    const r = encodeGrains({ firstGrain: 7, data, level: d.defaultLevel }, d);
    assert.deepEqual(decodeRecords(r.records, r.recordBytes), [0, 1, 2, 4].map((g) => data.subarray(g * GRAIN, (g + 1) * GRAIN)), d.name);
    assert.equal(r.recordBytes[3], 0, `${d.name}: the zero grain has no record`);
    assert.equal(r.storedGrains, 1, `${d.name}: the random grain is stored`);
    const text = textGrains(1);
    assert.equal(d.compressInto(text, Buffer.alloc(8), 6), 0, `${d.name}: 8 bytes of room is too little`);
    const room = Buffer.alloc(GRAIN);
    const n = d.compressInto(text, room, 6);
    assert.deepEqual(inflateSync(room.subarray(0, n)), text, d.name);
  }
});
