import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc64, crc64ToOss, crc64ToS3, parseOssCrc64, parseS3Crc64 } from '../../agent/hashing/crc64.js';

const ORIGIN = { source: 'x-test-header of bucket/key' };
const isSyntaxError = (e: unknown): boolean =>
  (e as { code?: string }).code === 'HASH_CHECKSUM_SYNTAX' && String((e as Error).message).includes('x-test-header of bucket/key');

test('OSS decimal and S3 base64 spellings of boundary values', () => {
  const max = (1n << 64n) - 1n;
  assert.equal(crc64ToOss(0n), '0');
  assert.equal(crc64ToOss(max), '18446744073709551615');
  assert.equal(crc64ToOss(1n << 63n), '9223372036854775808');
  assert.equal(crc64ToS3(0n), 'AAAAAAAAAAA=');
  assert.equal(crc64ToS3(max), '//////////8=');
  assert.equal(crc64ToS3(0x0102030405060708n), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]).toString('base64'));
});

test('spellings parse back to the same value for random data', () => {
  for (let i = 0; i < 200; i++) {
    const v = crc64(i % 2 === 0 ? 'xz' : 'nvme', randomBytes(i));
    assert.equal(parseOssCrc64(crc64ToOss(v), ORIGIN), v);
    assert.equal(parseS3Crc64(crc64ToS3(v), ORIGIN), v);
  }
});

test('malformed checksum texts are refused with HASH_CHECKSUM_SYNTAX naming where they came from', () => {
  for (const bad of ['', '-1', '+1', ' 1', '1 ', '0x10', '1e3', '18446744073709551616', '123456789012345678901', 'abc']) {
    assert.throws(() => parseOssCrc64(bad, ORIGIN), isSyntaxError, JSON.stringify(bad));
  }
  for (const bad of ['', 'rosUhgp5mIg', 'rosUhgp5mIg==', 'rosUhgp5mIh=', 'rosUhgp5mI==', 'rosUhgp5mIgA', 'ros Uhgp5mI=', 'rosUhgp5mIg=\n', 'AAAAAAAAAAAA']) {
    assert.throws(() => parseS3Crc64(bad, ORIGIN), isSyntaxError, JSON.stringify(bad));
  }
});
