import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseObjectUrl } from '../../agent/sinks/object-url.js';
import { STORE } from '../../agent/sinks/error-codes.js';
import { isVmxferError } from '../../agent/core/errors.js';

test('parseObjectUrl splits s3://, oss:// and file:// URLs into kind, bucket and key', () => {
  assert.deepEqual(parseObjectUrl('s3://my.bucket-1/images/disk 1.vmdk'), { kind: 's3', bucket: 'my.bucket-1', key: 'images/disk 1.vmdk' });
  assert.deepEqual(parseObjectUrl('s3://bucket'), { kind: 's3', bucket: 'bucket', key: '' });
  assert.deepEqual(parseObjectUrl('s3://bucket/prefix/'), { kind: 's3', bucket: 'bucket', key: 'prefix/' });
  assert.deepEqual(parseObjectUrl('OSS://oss-bucket/a/b.qcow2'), { kind: 'oss', bucket: 'oss-bucket', key: 'a/b.qcow2' });
  assert.deepEqual(parseObjectUrl('file:///data/out/disk.vhd'), { kind: 'file', bucket: '/data/out', key: 'disk.vhd' });
  assert.deepEqual(parseObjectUrl('file:///data/my%20out/d.raw'), { kind: 'file', bucket: '/data/my out', key: 'd.raw' });
  assert.deepEqual(parseObjectUrl('file:///data/out/'), { kind: 'file', bucket: '/data/out', key: '' });
});

test('parseObjectUrl refuses malformed URLs with STORE_BAD_URL naming the rule', () => {
  const cases: Array<[string, RegExp]> = [
    ['http://bucket/key', /expected s3:\/\/bucket\/key/],
    ['bucket/key', /expected s3:\/\/bucket\/key/],
    ['s3://Bad_Bucket/key', /bucket naming rules/],
    ['s3://ab/key', /bucket naming rules/],
    ['s3://a..b/key', /bucket naming rules/],
    ['s3://192.168.1.1/key', /bucket naming rules/],
    ['oss://dotted.bucket/key', /OSS bucket naming rules/],
    ['s3://bucket//key', /must not start with "\/"/],
    ['file://remote-host/path', /not a local file URL/],
  ];
  for (const [url, rule] of cases) {
    assert.throws(() => parseObjectUrl(url), (err: unknown) => {
      assert.ok(isVmxferError(err), String(err));
      assert.equal(err.code, STORE.BAD_URL.code);
      assert.equal(err.category, 'usage');
      assert.match(err.message, rule);
      assert.ok(err.message.includes(url), 'the message names the URL');
      return true;
    }, url);
  }
});
