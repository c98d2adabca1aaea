import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS } from '../../agent/config/schema.js';
import { connectionFor, parseStoreProfiles } from '../../agent/config/store-profiles.js';
import { storeFlagOverrides } from '../../agent/cli/store-flags.js';
import { openSink } from '../../agent/sinks/open-sink.js';
import { isVmxferError } from '../../agent/core/errors.js';

const config = (profiles: unknown) => ({ ...DEFAULTS, store_profiles: parseStoreProfiles(profiles) });

test('a store profile\'s checksum and --store-checksum choose the S3 part checksum; the endpoint decides otherwise', async () => {
  const profiles = { lab: { endpoint: 'http://rgw.lab:7480', path_style: true, checksum: 'crc64nvme', urls: ['s3://lab'] }, plain: { endpoint: 'http://rgw.lab:7480', urls: ['s3://plain'] } };
  const lab = connectionFor('s3://lab/disk.vmdk', config(profiles));
  assert.equal(lab.checksum, 'crc64nvme');
  assert.equal(connectionFor('s3://plain/disk.vmdk', config(profiles)).checksum, undefined);
  const labSink = await openSink('s3://lab/disk.vmdk', { ...lab, region: 'us-east-1' });
  assert.equal(labSink.sink.capabilities.partChecksum, 'crc64nvme', 'the profile wins over the non-AWS endpoint');
  assert.equal(labSink.sink.capabilities.objectChecksum, 'crc64nvme');
  const plainSink = await openSink('s3://plain/disk.vmdk', { endpoint: 'http://rgw.lab:7480', region: 'us-east-1' });
  assert.equal(plainSink.sink.capabilities.partChecksum, 'md5', 'a non-AWS endpoint keeps Content-MD5');
  assert.throws(() => parseStoreProfiles({ bad: { endpoint: 'http://x', checksum: 'sha1' } }), /checksum must be one of md5, crc32c, crc64nvme/);
  assert.equal(connectionFor('s3://c/disk.vmdk', config({ c: { endpoint: 'http://rgw.lab:7480', checksum: 'crc32c', urls: ['s3://c'] } })).checksum, 'crc32c');
  assert.throws(() => storeFlagOverrides({ 'store-checksum': 'crc32' }), (err: unknown) => isVmxferError(err) && err.code === 'VMX_USAGE' && /--store-checksum/.test(err.message));
});
