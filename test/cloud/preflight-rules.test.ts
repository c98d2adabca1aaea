import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRules } from '../../agent/cloud/preflight/format-rules.js';
import { ecsExportRules, sizeRules } from '../../agent/cloud/preflight/size-rules.js';
import { ecsDescriptionRules, ecsImageNameRules, ossPrefixRules } from '../../agent/cloud/preflight/name-rules.js';
import { awsTagRules, ecsTagRules } from '../../agent/cloud/preflight/tag-rules.js';
import { awsEncryptionRules, awsLicenseRules, ecsEncryptionRules } from '../../agent/cloud/preflight/encryption-rules.js';
import { roleRules, trusts } from '../../agent/cloud/preflight/role-rules.js';
import { awsExportBucketRules, ossExportBucketRules } from '../../agent/cloud/preflight/bucket-rules.js';
import { exportCanonicalAccount, OTHER_REGIONS_EXPORT_ACCOUNT } from '../../agent/cloud/preflight/canonical-accounts.js';
import { imageFactsFromInfo } from '../../agent/cloud/preflight/facts-from-disk.js';
import { localImportPreflight } from '../../agent/cloud/preflight/local-preflight.js';
import { GiB, TiB, type DiskFacts, type ImageFacts } from '../../agent/cloud/preflight/image-facts.js';
import type { Finding, ImportTarget } from '../../agent/cloud/preflight/finding.js';

type Expect = Array<[Finding['severity'], string]>;
interface Case {
  name: string;
  findings: Finding[];
  expect: Expect;
  /** A word the first finding's message must contain (it names the offending value). */
  mentions?: string;
}

function check(cases: Case[]): void {
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(c.findings.map((f) => [f.severity, f.cloudCode]), c.expect);
      for (const f of c.findings) assert.ok(f.hint.length > 10 && f.message.length > 5, `${f.rule} needs a message and a hint`);
      if (c.mentions) assert.match(c.findings[0]!.message, new RegExp(c.mentions.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    });
  }
}

const disk = (format: string, subformat?: string, virtualSize = 10 * GiB): DiskFacts => ({ path: `d.${format}`, format, subformat, virtualSize });
const one = (d: DiskFacts): ImageFacts => ({ disks: [d] });
const fmt = (target: ImportTarget, image: ImageFacts, convertAllowed = true) => formatRules({ target, image, convertAllowed });

check([
  { name: 'format: AWS ImportImage accepts stream-optimized VMDK', findings: fmt('aws-image', one(disk('vmdk', 'streamOptimized'))), expect: [] },
  { name: 'format: AWS ImportImage accepts VHD, VHDX and raw', findings: [...fmt('aws-image', one(disk('vhd', 'dynamic'))), ...fmt('aws-image', one(disk('vhdx'))), ...fmt('aws-image', one(disk('raw')))], expect: [] },
  { name: 'format: a monolithicSparse VMDK for ImportImage is repaired (converted to stream-optimized)', findings: fmt('aws-image', one(disk('vmdk', 'monolithicSparse'))), expect: [['repair', 'ClientError']], mentions: 'monolithicSparse' },
  { name: 'format: a non-stream VMDK with --original is an error', findings: fmt('aws-image', one(disk('vmdk', 'monolithicFlat')), false), expect: [['error', 'ClientError']] },
  { name: 'format: qcow2 for ImportImage is converted to VMDK', findings: fmt('aws-image', one(disk('qcow2'))), expect: [['repair', 'InvalidParameterValue']], mentions: 'qcow2' },
  { name: 'format: VHDX for ImportSnapshot (VHD, VMDK, raw only) is refused with --original', findings: fmt('aws-snapshot', one(disk('vhdx')), false), expect: [['error', 'InvalidParameterValue']], mentions: 'vhdx' },
  { name: 'format: ImportSnapshot accepts VMDK of any subformat, VHD and raw', findings: [...fmt('aws-snapshot', one(disk('vmdk', 'monolithicSparse'))), ...fmt('aws-snapshot', one(disk('vhd', 'fixed'))), ...fmt('aws-snapshot', one(disk('raw')))], expect: [] },
  { name: 'format: a differencing VHD for AWS is merged (repair)', findings: fmt('aws-snapshot', one(disk('vhd', 'differencing'))), expect: [['repair', 'ClientError']] },
  { name: 'format: ECS ImportImage accepts raw, qcow2, VMDK and fixed VHD', findings: [...fmt('ecs-image', one(disk('raw'))), ...fmt('ecs-image', one(disk('qcow2'))), ...fmt('ecs-image', one(disk('vmdk', 'monolithicSparse'))), ...fmt('ecs-image', one(disk('vhd', 'fixed')))], expect: [] },
  { name: 'format: a dynamic VHD where ECS expects fixed is converted (repair)', findings: fmt('ecs-image', one(disk('vhd', 'dynamic'))), expect: [['repair', 'InvalidParameter.Format']], mentions: 'dynamic' },
  { name: 'format: VDI for ECS is converted to qcow2', findings: fmt('ecs-image', one(disk('vdi'))), expect: [['repair', 'InvalidParameter.Format']] },
  { name: 'format: an OVA with chunked disks is reassembled for ImportImage', findings: fmt('aws-image', { container: 'ova', ovaChunked: true, disks: [disk('vmdk', 'streamOptimized')] }), expect: [['repair', 'ClientError']], mentions: 'chunks' },
  { name: 'format: an OVA with chunked disks and --original is an error', findings: fmt('aws-image', { container: 'ova', ovaChunked: true, disks: [disk('vmdk', 'streamOptimized')] }, false), expect: [['error', 'ClientError']] },
  { name: 'format: a whole-disk OVA goes to ImportImage as is', findings: fmt('aws-image', { container: 'ova', disks: [disk('vmdk', 'streamOptimized')] }), expect: [] },
]);

check([
  { name: 'size: a disk just under 16 TiB with a manifest passes', findings: sizeRules({ target: 'aws-image', image: one(disk('raw', undefined, 16 * TiB - 512)), manifest: true }), expect: [] },
  { name: 'size: a 16 TiB disk is refused', findings: sizeRules({ target: 'aws-image', image: one(disk('raw', undefined, 16 * TiB)), manifest: true }), expect: [['error', 'ClientError']], mentions: '16 TiB' },
  { name: 'size: over 8 TiB without a manifest is refused', findings: sizeRules({ target: 'aws-snapshot', image: one(disk('raw', undefined, 8 * TiB + 512)) }), expect: [['error', 'ClientError']], mentions: 'manifest' },
  { name: 'size: exactly 8 TiB needs no manifest', findings: sizeRules({ target: 'aws-image', image: one(disk('raw', undefined, 8 * TiB)) }), expect: [] },
  { name: 'size: 21 volumes are accepted by ImportImage', findings: sizeRules({ target: 'aws-image', image: { disks: Array.from({ length: 21 }, () => disk('raw')) } }), expect: [] },
  { name: 'size: 22 volumes are refused with a hint to ImportSnapshot', findings: sizeRules({ target: 'aws-image', image: { disks: Array.from({ length: 22 }, () => disk('raw')) } }), expect: [['error', 'InvalidParameterValue']], mentions: '22 volumes' },
  { name: 'size: the AWS limits do not apply to ECS', findings: sizeRules({ target: 'ecs-image', image: one(disk('raw', undefined, 20 * TiB)) }), expect: [] },
  { name: 'ecs export: 4 data disks of 500 GiB pass', findings: ecsExportRules({ imageId: 'm-1', dataDiskSizes: [500, 500, 500, 500].map((g) => g * GiB) }), expect: [] },
  { name: 'ecs export: 5 data disks are refused', findings: ecsExportRules({ imageId: 'm-1', dataDiskSizes: [1, 1, 1, 1, 1].map((g) => g * GiB) }), expect: [['error', 'InvalidParameter']], mentions: '5 data disks' },
  { name: 'ecs export: a 501 GiB data disk is refused', findings: ecsExportRules({ imageId: 'm-1', dataDiskSizes: [501 * GiB] }), expect: [['error', 'InvalidParameter']], mentions: '501 GiB' },
]);

const name = (n: string) => ecsImageNameRules(n);
check([
  { name: 'ecs name: letters, digits, ".", "_", "-", ":" starting with a letter pass', findings: name('Web01_v1.2-final:a'), expect: [] },
  { name: 'ecs name: a Chinese first character passes', findings: name('镜像01'), expect: [] },
  { name: 'ecs name: 1 character is too short', findings: name('a'), expect: [['error', 'InvalidImageName.Malformed']], mentions: '1 characters' },
  { name: 'ecs name: 129 characters is too long', findings: name('a'.repeat(129)), expect: [['error', 'InvalidImageName.Malformed']] },
  { name: 'ecs name: 128 characters is fine', findings: name('a'.repeat(128)), expect: [] },
  { name: 'ecs name: a digit first is refused', findings: name('1web'), expect: [['error', 'InvalidImageName.Malformed']] },
  { name: 'ecs name: the aliyun prefix is reserved', findings: name('aliyunWeb'), expect: [['error', 'InvalidImageName.Malformed']], mentions: 'reserved' },
  { name: 'ecs name: the acs: prefix is reserved', findings: name('acs:web'), expect: [['error', 'InvalidImageName.Malformed']] },
  { name: 'ecs name: http:// inside is refused', findings: name('webhttp://x'), expect: [['error', 'InvalidImageName.Malformed']] },
  { name: 'ecs name: a space is not an allowed character', findings: name('web 01'), expect: [['error', 'InvalidImageName.Malformed']] },
  { name: 'ecs description: 2-256 characters pass', findings: ecsDescriptionRules('ok'), expect: [] },
  { name: 'ecs description: 1 character is refused', findings: ecsDescriptionRules('x'), expect: [['error', 'InvalidDescription.Malformed']] },
  { name: 'ecs description: 257 characters are refused', findings: ecsDescriptionRules('x'.repeat(257)), expect: [['error', 'InvalidDescription.Malformed']] },
  { name: 'ecs description: https:// at the start is refused', findings: ecsDescriptionRules('https://example.com'), expect: [['error', 'InvalidDescription.Malformed']] },
  { name: 'oss prefix: 1-30 letters or digits pass', findings: [...ossPrefixRules('a'), ...ossPrefixRules('A1'.repeat(15))], expect: [] },
  { name: 'oss prefix: 31 characters are refused', findings: ossPrefixRules('a'.repeat(31)), expect: [['error', 'InvalidOSSPrefix.Malformed']] },
  { name: 'oss prefix: a slash is refused', findings: ossPrefixRules('exports/'), expect: [['error', 'InvalidOSSPrefix.Malformed']], mentions: 'exports/' },
  { name: 'oss prefix: empty is refused', findings: ossPrefixRules(''), expect: [['error', 'InvalidOSSPrefix.Malformed']] },
]);

const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
check([
  { name: 'ecs tags: 20 tags pass', findings: ecsTagRules(tags(20)), expect: [] },
  { name: 'ecs tags: 21 tags are refused', findings: ecsTagRules(tags(21)), expect: [['error', 'InvalidTagCount']] },
  { name: 'ecs tags: an aliyun key prefix is refused', findings: ecsTagRules({ aliyunTeam: 'a' }), expect: [['error', 'InvalidTagKey.Malformed']], mentions: 'aliyunTeam' },
  { name: 'ecs tags: an acs: key prefix is refused', findings: ecsTagRules({ 'acs:x': 'a' }), expect: [['error', 'InvalidTagKey.Malformed']] },
  { name: 'ecs tags: http:// in a key or a value is refused', findings: ecsTagRules({ 'http://k': 'https://v' }), expect: [['error', 'InvalidTagKey.Malformed'], ['error', 'InvalidTagValue.Malformed']] },
  { name: 'ecs tags: a 129-character key and value are refused', findings: ecsTagRules({ ['k'.repeat(129)]: 'v'.repeat(129) }), expect: [['error', 'InvalidTagKey.Malformed'], ['error', 'InvalidTagValue.Malformed']] },
  { name: 'ecs tags: an empty key is refused', findings: ecsTagRules({ '': 'v' }), expect: [['error', 'InvalidTagKey.Malformed']] },
  { name: 'aws tags: 50 tags pass, 51 are refused', findings: [...awsTagRules(tags(50)), ...awsTagRules(tags(51))], expect: [['error', 'TagLimitExceeded']] },
  { name: 'aws tags: the aws: key prefix is reserved', findings: awsTagRules({ 'aws:owner': 'x' }), expect: [['error', 'InvalidParameterValue']] },
  { name: 'aws tags: a 257-character value is refused, 256 is fine', findings: [...awsTagRules({ a: 'v'.repeat(256) }), ...awsTagRules({ b: 'v'.repeat(257) })], expect: [['error', 'InvalidParameterValue']] },
]);

check([
  { name: 'ecs encryption: KMSKeyId without Encrypted is InvalidParameter.EncryptedIllegal', findings: ecsEncryptionRules({ kmsKeyId: 'key-1' }), expect: [['error', 'InvalidParameter.EncryptedIllegal']], mentions: 'key-1' },
  { name: 'ecs encryption: EncryptAlgorithm without Encrypted is InvalidEncrypted.NotMatchEncryptAlgorithm', findings: ecsEncryptionRules({ encryptAlgorithm: 'SM4', encrypted: false }), expect: [['error', 'InvalidEncrypted.NotMatchEncryptAlgorithm']] },
  { name: 'ecs encryption: both with Encrypted=true pass', findings: ecsEncryptionRules({ kmsKeyId: 'key-1', encryptAlgorithm: 'AES256', encrypted: true }), expect: [] },
  { name: 'aws encryption: KmsKeyId without Encrypted is InvalidParameterDependency', findings: awsEncryptionRules({ kmsKeyId: 'arn:aws:kms:k' }), expect: [['error', 'InvalidParameterDependency']] },
  { name: 'aws encryption: KmsKeyId with Encrypted passes', findings: awsEncryptionRules({ kmsKeyId: 'arn:aws:kms:k', encrypted: true }), expect: [] },
  { name: 'aws license: license type and usage operation together are InvalidParameterCombination', findings: awsLicenseRules({ licenseType: 'BYOL', usageOperation: 'RunInstances:0800' }), expect: [['error', 'InvalidParameterCombination']] },
  { name: 'aws license: either alone passes', findings: [...awsLicenseRules({ licenseType: 'BYOL' }), ...awsLicenseRules({ usageOperation: 'RunInstances:0800' })], expect: [] },
]);

const vmieTrust = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'vmie.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const ecsTrust = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] }, Action: 'sts:AssumeRole' }] });
check([
  { name: 'role: vmimport trusting vmie.amazonaws.com passes', findings: roleRules({ cloud: 'aws', roleName: 'vmimport', exists: true, trustPolicy: vmieTrust }), expect: [] },
  { name: 'role: a missing vmimport role is NoSuchEntity', findings: roleRules({ cloud: 'aws', roleName: 'vmimport', exists: false }), expect: [['error', 'NoSuchEntity']], mentions: 'vmimport' },
  { name: 'role: vmimport trusting another service fails the trust check', findings: roleRules({ cloud: 'aws', roleName: 'vmimport', exists: true, trustPolicy: ecsTrust }), expect: [['error', 'InvalidParameter']], mentions: 'vmie.amazonaws.com' },
  { name: 'role: a missing AliyunECSImageImportDefaultRole is EntityNotExist.Role', findings: roleRules({ cloud: 'alibaba', roleName: 'AliyunECSImageImportDefaultRole', exists: false }), expect: [['error', 'EntityNotExist.Role']] },
  { name: 'role: AliyunECSImageExportDefaultRole trusting ecs.aliyuncs.com passes', findings: roleRules({ cloud: 'alibaba', roleName: 'AliyunECSImageExportDefaultRole', exists: true, trustPolicy: ecsTrust }), expect: [] },
  { name: 'role: a Deny statement is not trust', findings: roleRules({ cloud: 'alibaba', roleName: 'R', exists: true, trustPolicy: ecsTrust.replace('Allow', 'Deny') }), expect: [['error', 'NoSetRoletoECSServiceAcount']] },
]);

test('role: trusts() reads single statements and rejects malformed JSON', () => {
  assert.equal(trusts(JSON.stringify({ Statement: { Effect: 'Allow', Principal: { Service: 'vmie.amazonaws.com' }, Action: ['sts:AssumeRole'] } }), 'vmie.amazonaws.com'), true);
  assert.equal(trusts('{not json', 'vmie.amazonaws.com'), false);
  assert.equal(trusts(undefined, 'vmie.amazonaws.com'), false);
});

const ready = (region = 'eu-west-1') => ({
  bucket: 'exp', region, objectOwnership: 'BucketOwnerPreferred',
  grants: [{ id: exportCanonicalAccount(region)!, permission: 'WRITE' }, { id: exportCanonicalAccount(region)!, permission: 'READ_ACP' }],
});
check([
  { name: 'aws bucket: ACLs enabled, WRITE and READ_ACP to the region account, no SSE-KMS pass', findings: awsExportBucketRules(ready()), expect: [] },
  { name: 'aws bucket: FULL_CONTROL to the region account is enough', findings: awsExportBucketRules({ ...ready(), grants: [{ id: OTHER_REGIONS_EXPORT_ACCOUNT, permission: 'FULL_CONTROL' }] }), expect: [] },
  { name: 'aws bucket: BucketOwnerEnforced is refused', findings: awsExportBucketRules({ ...ready(), objectOwnership: 'BucketOwnerEnforced' }), expect: [['error', 'AccessControlListNotSupported']], mentions: 'BucketOwnerEnforced' },
  { name: 'aws bucket: no grant to the export account is refused (WRITE and READ_ACP)', findings: awsExportBucketRules({ ...ready(), grants: [] }), expect: [['error', 'AccessDenied'], ['error', 'AccessDenied']], mentions: OTHER_REGIONS_EXPORT_ACCOUNT },
  { name: 'aws bucket: af-south-1 needs its own canonical account, not the default one', findings: awsExportBucketRules({ ...ready('eu-west-1'), region: 'af-south-1' }), expect: [['error', 'AccessDenied'], ['error', 'AccessDenied']], mentions: exportCanonicalAccount('af-south-1')! },
  { name: 'aws bucket: a Region whose own export account vmxfer does not list (cn-northwest-1, il-central-1) is a warning, not a refusal by the default account', findings: [...awsExportBucketRules({ ...ready(), region: 'cn-northwest-1', grants: [] }), ...awsExportBucketRules({ ...ready(), region: 'il-central-1', grants: [] })], expect: [['warning', 'AccessDenied'], ['warning', 'AccessDenied']], mentions: 'not one vmxfer knows' },
  { name: 'aws bucket: SSE-KMS default encryption is refused, SSE-S3 passes', findings: [...awsExportBucketRules({ ...ready(), defaultEncryption: 'AES256' }), ...awsExportBucketRules({ ...ready(), defaultEncryption: 'aws:kms' })], expect: [['error', 'AccessDenied']] },
  { name: 'oss bucket: Standard without encryption passes', findings: ossExportBucketRules({ bucket: 'b', storageClass: 'Standard', location: 'oss-cn-hangzhou' }, 'cn-hangzhou'), expect: [] },
  { name: 'oss bucket: Archive and ColdArchive are refused', findings: [...ossExportBucketRules({ bucket: 'b', storageClass: 'Archive' }, 'cn-hangzhou'), ...ossExportBucketRules({ bucket: 'b', storageClass: 'ColdArchive' }, 'cn-hangzhou')], expect: [['error', 'InvalidParameter'], ['error', 'InvalidParameter']] },
  { name: 'oss bucket: an encrypted bucket is refused', findings: ossExportBucketRules({ bucket: 'b', storageClass: 'IA', sseAlgorithm: 'KMS' }, 'cn-hangzhou'), expect: [['error', 'InvalidParameter']], mentions: 'KMS' },
  { name: 'oss bucket: a bucket in another region than the image is refused', findings: ossExportBucketRules({ bucket: 'b', storageClass: 'Standard', location: 'oss-cn-beijing' }, 'cn-hangzhou'), expect: [['error', 'InvalidParameter']], mentions: 'oss-cn-beijing' },
]);

test('canonical accounts: listed regions have their own, unlisted China/GovCloud/opt-in regions none known, every other region the default', () => {
  assert.equal(exportCanonicalAccount('us-east-1')!, OTHER_REGIONS_EXPORT_ACCOUNT);
  assert.equal(exportCanonicalAccount('us-gov-east-1'), undefined);
  assert.equal(exportCanonicalAccount('ap-southeast-4'), undefined);
  assert.notEqual(exportCanonicalAccount('cn-north-1')!, OTHER_REGIONS_EXPORT_ACCOUNT);
  assert.match(exportCanonicalAccount('me-south-1')!, /^[0-9a-f]{64}$/);
});

test('facts from inspect: a plain disk and an OVA with its disk list and chunk flag', () => {
  assert.deepEqual(imageFactsFromInfo('a.raw', { format: 'raw', virtualSize: 1024, files: ['a.raw'], warnings: [] }), { disks: [{ path: 'a.raw', format: 'raw', subformat: undefined, virtualSize: 1024 }] });
  const listed = [{ index: 1, diskId: 'd1', capacityBytes: 2048, format: 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized', file: 'a.vmdk', fileSize: 900, chunkSize: 512, compression: undefined }];
  const ova = imageFactsFromInfo('x.ova', { format: 'ova', virtualSize: 0, files: [], warnings: [], details: { disks: listed } });
  assert.equal(ova.container, 'ova');
  assert.equal(ova.ovaChunked, true);
  assert.equal(ova.disks[0]!.virtualSize, 2048);
});

test('local import preflight combines format, size and parameter rules for each target', () => {
  const image = one(disk('vmdk', 'monolithicSparse'));
  const aws = localImportPreflight({ target: 'aws-image', image, convertAllowed: true, aws: { kmsKeyId: 'k', licenseType: 'BYOL', usageOperation: 'RunInstances' } });
  assert.deepEqual(aws.map((f) => f.cloudCode), ['ClientError', 'InvalidParameterDependency', 'InvalidParameterCombination']);
  const ecs = localImportPreflight({ target: 'ecs-image', image: one(disk('vhd', 'dynamic')), convertAllowed: true, ecs: { imageName: 'x', tags: tags(21) } });
  assert.deepEqual(ecs.map((f) => f.cloudCode), ['InvalidParameter.Format', 'InvalidImageName.Malformed', 'InvalidTagCount']);
  assert.equal(ecs[0]!.convertTo, 'vhd-fixed');
});
