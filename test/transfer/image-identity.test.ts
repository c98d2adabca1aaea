import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encoderOf, encoderOptions, imageIdentity } from '../../agent/transfer/image-identity.js';
import { identityCid } from '../../agent/formats/vmdk/writer-options.js';
import type { UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';

const SOURCE = { path: '/images/web01.qcow2', size: 10 * 2 ** 30, mtimeMs: 1_717_000_000_123.456 };

test('the image identity is a function of source path, size, mtime and options: equal inputs, equal identity; any change, another', () => {
  const a = imageIdentity(SOURCE, { as: 'vmdk' });
  assert.deepEqual(imageIdentity({ ...SOURCE }, { as: 'vmdk' }), a);
  assert.equal(a.createdAtMs, 1_717_000_000_123);
  assert.match(a.uniqueId, /^[0-9a-f]{32}$/);
  const others = [
    imageIdentity({ ...SOURCE, path: '/images/web02.qcow2' }, { as: 'vmdk' }),
    imageIdentity({ ...SOURCE, size: SOURCE.size + 512 }, { as: 'vmdk' }),
    imageIdentity({ ...SOURCE, mtimeMs: SOURCE.mtimeMs + 1 }, { as: 'vmdk' }),
    imageIdentity(SOURCE, { as: 'ova' }),
    imageIdentity(SOURCE, { as: 'vmdk', parent: '/images/base.qcow2' }),
  ];
  assert.equal(new Set([a.uniqueId, ...others.map((o) => o.uniqueId)]).size, others.length + 1);
  assert.notEqual(identityCid(a.uniqueId), identityCid(others[0]!.uniqueId), 'different sources, different VMDK CIDs');
  assert.notEqual(identityCid(a.uniqueId, 1), identityCid(a.uniqueId, 2), 'the disks of one OVA get different CIDs');
});

test('the encoder record round-trips through the checkpoint options', () => {
  const e = { writer: 'vmdk-stream/2', compressor: 'libdeflate 1.14', level: 2 };
  const cp = { id: 'x', options: { as: 'vmdk', partSize: 1, ...encoderOptions(e) } } as unknown as UploadCheckpoint;
  assert.deepEqual(encoderOf(cp), e);
  const plain = { id: 'y', options: { as: 'raw', ...encoderOptions({ writer: 'raw/1' }) } } as unknown as UploadCheckpoint;
  assert.deepEqual(encoderOf(plain), { writer: 'raw/1', compressor: undefined, level: undefined });
  assert.deepEqual(Object.keys(plain.options).sort(), ['as', 'writer'], 'no undefined fields in the JSON');
});
