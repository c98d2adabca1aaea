import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createDigest, digestOf } from '../../agent/hashing/digests.js';

// FIPS 180-4 / RFC 1321 example vectors for "abc".
const ABC = {
  sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
  md5: '900150983cd24fb0d6963f7d28e17f72',
} as const;

test('digests of "abc" match the standards\' example values, in hex and base64', () => {
  for (const alg of ['sha256', 'sha1', 'md5'] as const) {
    assert.equal(digestOf(alg, Buffer.from('abc')), ABC[alg], alg);
    assert.equal(digestOf(alg, Buffer.from('abc'), 'base64'), Buffer.from(ABC[alg], 'hex').toString('base64'), alg);
  }
});

test('pieces digest like the whole; createDigest is incremental', () => {
  const data = randomBytes(300000);
  for (const alg of ['sha256', 'sha1', 'md5'] as const) {
    const whole = digestOf(alg, data);
    assert.equal(digestOf(alg, [data.subarray(0, 1), data.subarray(1, 99999), data.subarray(99999)]), whole, alg);
    assert.equal(createDigest(alg).update(data.subarray(0, 4096)).update(data.subarray(4096)).digest('hex'), whole, alg);
  }
});
