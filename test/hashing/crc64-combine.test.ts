import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { combineCrc64, Crc64, crc64, CRC64_VARIANTS } from '../../agent/hashing/crc64.js';
import { crc64Js } from '../../agent/hashing/crc64-js.js';

const MiB = 1024 * 1024;

test('combine(crc(A), crc(B), |B|) equals crc(A||B) for random splits, empty parts included', () => {
  const data = randomBytes(2 * MiB + 333);
  for (const variant of CRC64_VARIANTS) {
    const whole = crc64(variant, data);
    const cuts = [0, 1, 8, 4095, MiB, data.length - 1, data.length];
    for (let i = 0; i < 20; i++) cuts.push(randomInt(data.length + 1));
    for (const cut of cuts) {
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      assert.equal(combineCrc64(variant, crc64(variant, a), crc64(variant, b), b.length), whole, `${variant} cut ${cut}`);
    }
  }
});

test('many parts fold into the whole object value (multipart upload), with bigint lengths too', () => {
  const data = randomBytes(3 * MiB + 5);
  for (const variant of CRC64_VARIANTS) {
    const folded = new Crc64(variant);
    let bigFold = 0n;
    for (let off = 0; off < data.length; ) {
      const n = Math.min(data.length - off, randomInt(3) === 0 ? 0 : randomInt(700 * 1024));
      const part = data.subarray(off, off + n);
      const partCrc = crc64Js(variant, part);
      folded.appendPart(partCrc, n);
      bigFold = combineCrc64(variant, bigFold, partCrc, BigInt(n));
      off += n;
    }
    const expected = crc64Js(variant, data);
    assert.equal(folded.digest(), expected, variant);
    assert.equal(folded.length, data.length);
    assert.equal(bigFold, expected, `${variant} bigint lengths`);
  }
});

/** crc of 2^k MiB of zeros, by doubling: crc(Z||Z) = combine(crc(Z), crc(Z), |Z|). */
function zerosCrc(variant: 'xz' | 'nvme', k: number): bigint {
  let z = crc64(variant, Buffer.alloc(MiB));
  for (let i = 0, len = MiB; i < k; i++, len *= 2) z = combineCrc64(variant, z, z, len);
  return z;
}

test('combine is consistent beyond 4 GiB: A + 8 GiB of zeros in one part equals A + 8 parts of 1 GiB', () => {
  const a = randomBytes(100);
  for (const variant of CRC64_VARIANTS) {
    const oneGiB = zerosCrc(variant, 10);
    const viaOnePart = combineCrc64(variant, crc64(variant, a), zerosCrc(variant, 13), 8 * 1024 * MiB);
    const viaParts = new Crc64(variant).update(a);
    for (let i = 0; i < 8; i++) viaParts.appendPart(oneGiB, 1024 * MiB);
    assert.equal(viaParts.digest(), viaOnePart, variant);
    assert.notEqual(viaOnePart, crc64(variant, a));
  }
});

test('doubling by combine matches hashing the zeros for 4 MiB', () => {
  for (const variant of CRC64_VARIANTS) assert.equal(zerosCrc(variant, 2), crc64Js(variant, Buffer.alloc(4 * MiB)), variant);
});

test('combine rejects lengths that are negative, fractional or beyond 2^53-1 with HASH_BAD_LENGTH', () => {
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -1n, 2n ** 53n]) {
    assert.throws(() => combineCrc64('xz', 1n, 2n, bad), (e: unknown) => (e as { code?: string }).code === 'HASH_BAD_LENGTH', String(bad));
  }
});
