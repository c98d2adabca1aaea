import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCRC64 } from 'hash-wasm';
import { Crc64NvmeJs } from '@aws-sdk/checksums/crc';
import { Crc64, crc64, crc64NvmeS3, crc64Oss, CRC64_PARAMS, CRC64_VARIANTS, type Crc64Variant } from '../../agent/hashing/crc64.js';
import { crc64Js } from '../../agent/hashing/crc64-js.js';
import { crc64Windowed, loadCrc64Kernel } from '../../agent/hashing/crc64-wasm.js';

const MiB = 1024 * 1024;
const LENGTHS = [0, 1, 7, 8, 15, 16, 17, 31, 4095, MiB - 1, MiB, MiB + 3, 2 * MiB + 17];
const CHECK_INPUT = Buffer.from('123456789', 'ascii');

/** The CRC straight from its definition, bit by bit (shares nothing with the table code). */
function crc64Bitwise(variant: Crc64Variant, data: Uint8Array): bigint {
  const poly = CRC64_PARAMS[variant].reflectedPolynomial;
  let reg = (1n << 64n) - 1n;
  for (const byte of data) {
    reg ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) reg = (reg & 1n) !== 0n ? (reg >> 1n) ^ poly : reg >> 1n;
  }
  return reg ^ ((1n << 64n) - 1n);
}

/** hash-wasm's CRC-64 takes the reflected polynomial as hex. */
async function hashWasmCrc64(variant: Crc64Variant, data: Uint8Array): Promise<bigint> {
  const h = await createCRC64(CRC64_PARAMS[variant].reflectedPolynomial.toString(16));
  h.init();
  h.update(data);
  return BigInt('0x' + h.digest('hex'));
}

async function awsSdkCrc64Nvme(data: Uint8Array): Promise<bigint> {
  const h = new Crc64NvmeJs();
  h.update(data);
  return Buffer.from(await h.digest()).readBigUInt64BE(0);
}

test('CRC-64/XZ and CRC-64/NVME give the catalogue check values for "123456789"', () => {
  assert.equal(crc64('xz', CHECK_INPUT), 0x995dc9bbdf1939fan);
  assert.equal(crc64('nvme', CHECK_INPUT), 0xae8b14860a799888n);
  for (const v of CRC64_VARIANTS) {
    assert.equal(crc64Js(v, CHECK_INPUT), CRC64_PARAMS[v].check, `JS reference ${v}`);
    assert.equal(crc64Bitwise(v, CHECK_INPUT), CRC64_PARAMS[v].check, `bitwise definition ${v}`);
    assert.equal(crc64(v, new Uint8Array(0)), 0n, `empty input ${v}`);
  }
});

test('the WebAssembly kernels agree with the JS reference on many lengths, offsets and both variants', () => {
  const pool = randomBytes(2 * MiB + 64);
  const slice8 = loadCrc64Kernel('slice8');
  for (const variant of CRC64_VARIANTS) {
    for (const length of LENGTHS) {
      for (const offset of length > MiB ? [0, 5] : [0, 1, 3, 7]) {
        const data = pool.subarray(offset, offset + length);
        const expected = crc64Js(variant, data);
        assert.equal(crc64(variant, data), expected, `${variant} slice16 length ${length} offset ${offset}`);
        assert.equal(crc64Windowed(slice8, CRC64_PARAMS[variant].kernelIndex, 0n, data), expected, `${variant} slice8 length ${length} offset ${offset}`);
      }
    }
  }
});

test('the table code matches the bitwise definition on short random buffers', () => {
  for (let length = 0; length <= 70; length++) {
    const data = randomBytes(length);
    for (const v of CRC64_VARIANTS) assert.equal(crc64(v, data), crc64Bitwise(v, data), `${v} length ${length}`);
  }
});

test('independent implementations agree: hash-wasm (both variants) and the AWS SDK (CRC-64/NVME)', async () => {
  for (const length of [0, 1, 9, 4096 + 5, MiB + 3]) {
    const data = randomBytes(length);
    for (const v of CRC64_VARIANTS) assert.equal(crc64(v, data), await hashWasmCrc64(v, data), `hash-wasm ${v} length ${length}`);
    assert.equal(crc64('nvme', data), await awsSdkCrc64Nvme(data), `AWS SDK length ${length}`);
  }
});

test('incremental updates in random pieces equal the one-shot value', () => {
  const data = randomBytes(3 * MiB + 11);
  for (const variant of CRC64_VARIANTS) {
    const whole = crc64(variant, data);
    for (let trial = 0; trial < 5; trial++) {
      const c = new Crc64(variant);
      for (let off = 0; off < data.length; ) {
        const n = Math.min(data.length - off, Math.floor(Math.random() * (trial % 2 === 0 ? 70 : 1.5 * MiB)));
        c.update(data.subarray(off, off + n));
        off += n;
      }
      assert.equal(c.digest(), whole, `${variant} trial ${trial}`);
      assert.equal(c.length, data.length);
    }
  }
});

test('interleaved Crc64 objects keep separate state', () => {
  const a = randomBytes(MiB + 100);
  const b = randomBytes(5000);
  const ca = new Crc64('xz');
  const cb = new Crc64('nvme');
  ca.update(a.subarray(0, 777));
  cb.update(b.subarray(0, 10));
  ca.update(a.subarray(777));
  cb.update(b.subarray(10));
  assert.equal(ca.digest(), crc64Js('xz', a));
  assert.equal(cb.digest(), crc64Js('nvme', b));
});

test('one-shot helpers spell the values as OSS and S3 do', () => {
  assert.equal(crc64Oss(CHECK_INPUT), '11051210869376104954');
  assert.equal(crc64NvmeS3(CHECK_INPUT), Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
  assert.equal(new Crc64('nvme').update(CHECK_INPUT).digestS3(), 'rosUhgp5mIg=');
  assert.equal(new Crc64('xz').update(CHECK_INPUT).digestOss(), '11051210869376104954');
});
