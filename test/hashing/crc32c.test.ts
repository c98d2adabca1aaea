import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { combineCrc32c, crc32c, crc32cToS3, parseS3Crc32c } from '../../agent/hashing/crc32c.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { HASH } from '../../agent/hashing/error-codes.js';

/** An independent CRC-32C: bit by bit from RFC 3720 B.4's parameters (reflected 0x82F63B78). */
function bitwiseCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('CRC-32C: the check value of "123456789" (0xE3069283) and an independent bitwise implementation', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  for (const n of [0, 1, 7, 64, 4099]) {
    const data = randomBytes(n);
    assert.equal(crc32c(data), bitwiseCrc32c(data), `${n} bytes`);
    assert.equal(crc32c(new Uint8Array(data)), bitwiseCrc32c(data), `${n} bytes as a plain Uint8Array`);
  }
});

test('CRC-32C combine: crc(A||B) from crc(A), crc(B) and |B|, for empty, short and multi-MiB parts', () => {
  const whole = randomBytes(3 * 1024 * 1024 + 17);
  for (const cut of [0, 1, 5, 1024 * 1024, whole.length - 1, whole.length]) {
    const a = whole.subarray(0, cut);
    const b = whole.subarray(cut);
    assert.equal(combineCrc32c(crc32c(a), crc32c(b), b.length), crc32c(whole), `cut at ${cut}`);
  }
  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(999)];
  const folded = parts.reduce((acc, p) => combineCrc32c(acc, crc32c(p), p.length), 0);
  assert.equal(folded, crc32c(Buffer.concat(parts)), 'folding from 0 over the parts gives the object\'s CRC (S3 FULL_OBJECT)');
  assert.throws(() => combineCrc32c(1, 2, -1), (e: unknown) => isVmxferError(e) && e.code === HASH.BAD_LENGTH.code);
  assert.throws(() => combineCrc32c(1, 2, 1.5), (e: unknown) => isVmxferError(e) && e.code === HASH.BAD_LENGTH.code);
});

test('CRC-32C in S3\'s spelling: base64 of 4 big-endian bytes, parsed back; other text is refused', () => {
  assert.equal(crc32cToS3(0xe3069283), Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString('base64'));
  for (const v of [0, 1, 0xffffffff, 0xe3069283]) assert.equal(parseS3Crc32c(crc32cToS3(v), { source: 't' }), v);
  for (const bad of ['', '4waSgw=', '4waSgw', '4waSgx==', 'AAAAAAAAAAA=']) {
    assert.throws(() => parseS3Crc32c(bad, { source: 'header' }), (e: unknown) => isVmxferError(e) && e.code === HASH.CHECKSUM_SYNTAX.code, bad);
  }
});
