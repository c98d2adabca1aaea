import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ChunkFingerprinter } from '../../agent/hashing/fingerprint.js';

// Reference vectors from the xxHash project (seed 0): XXH64("") and XXH3_64bits("").
const EMPTY = { xxh64: 'ef46db3751d8e999', xxh3: '2d06800538d394c2' } as const;

test('fingerprints of the empty chunk match the xxHash reference values', async () => {
  for (const alg of ['xxh64', 'xxh3'] as const) {
    const f = await ChunkFingerprinter.create(alg);
    assert.equal(f.fingerprint(new Uint8Array(0)), EMPTY[alg], alg);
  }
});

test('a chunk given in pieces has the fingerprint of the whole; a changed byte changes it', async () => {
  const chunk = randomBytes(1024 * 1024 + 7);
  for (const alg of ['xxh64', 'xxh3'] as const) {
    const f = await ChunkFingerprinter.create(alg);
    const whole = f.fingerprint(chunk);
    assert.match(whole, /^[0-9a-f]{16}$/);
    assert.equal(f.fingerprint([chunk.subarray(0, 5), chunk.subarray(5, 70000), chunk.subarray(70000)]), whole, alg);
    const changed = Buffer.from(chunk);
    changed[123456] ^= 1;
    assert.notEqual(f.fingerprint(changed), whole, alg);
    assert.equal(f.fingerprint(chunk), whole, `${alg} repeatable after other chunks`);
  }
});
