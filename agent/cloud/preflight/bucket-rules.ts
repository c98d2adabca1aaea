import { finding, type Finding } from './finding.js';
import { exportCanonicalAccount } from './canonical-accounts.js';

/** What the S3 bucket checks found (GetBucketOwnershipControls, GetBucketAcl, GetBucketEncryption). */
export interface S3BucketFacts {
  bucket: string;
  region: string;
  /** ObjectOwnership rule, undefined when the bucket has no ownership controls (OwnershipControlsNotFoundError). */
  objectOwnership?: string | undefined;
  /** Canonical user ids and the permission each is granted (Grant/Grantee/ID, Grant/Permission). */
  grants: Array<{ id: string; permission: string }>;
  /** Default encryption algorithm (AES256, aws:kms, aws:kms:dsse), undefined when none is configured. */
  defaultEncryption?: string | undefined;
}

/**
 * VM Import/Export User Guide, "Prerequisites for exporting": the export bucket needs ACLs enabled
 * (not BucketOwnerEnforced), WRITE and READ_ACP granted to the Region's VM Import/Export canonical
 * account, and no SSE-KMS default encryption (VM Export cannot write into it).
 */
export function awsExportBucketRules(b: S3BucketFacts): Finding[] {
  const out: Finding[] = [];
  if (b.objectOwnership === 'BucketOwnerEnforced') {
    out.push(finding('error', 's3-ownership', 'AccessControlListNotSupported', `bucket ${b.bucket} has Object Ownership BucketOwnerEnforced (ACLs disabled)`, 'Set Object Ownership to "Bucket owner preferred" or "Object writer" so the VM Export account can be granted access.'));
  }
  const account = exportCanonicalAccount(b.region);
  if (account === undefined) {
    out.push(finding('warning', 's3-export-grant-unverified', 'AccessDenied', `the VM Import/Export account of ${b.region} is not one vmxfer knows, so bucket ${b.bucket}'s ACL grant was not checked`, `Check that the bucket grants WRITE and READ_ACP to the ${b.region} canonical account listed in the VM Import/Export User Guide ("Prerequisites for exporting").`));
  }
  for (const permission of account === undefined ? [] : ['WRITE', 'READ_ACP']) {
    if (!b.grants.some((g) => g.id === account && (g.permission === permission || g.permission === 'FULL_CONTROL'))) {
      out.push(finding('error', 's3-export-grant', 'AccessDenied', `bucket ${b.bucket} does not grant ${permission} to the ${b.region} VM Import/Export account ${account}`, `Add an ACL grant of ${permission} for canonical id ${account} to the bucket.`));
    }
  }
  if (b.defaultEncryption?.startsWith('aws:kms')) {
    out.push(finding('error', 's3-sse-kms', 'AccessDenied', `bucket ${b.bucket} encrypts by default with ${b.defaultEncryption}`, 'Export to a bucket with SSE-S3 (AES256) or no default encryption; VM Export cannot write SSE-KMS objects.'));
  }
  return out;
}

/** What OSS GetBucketInfo says (BucketInfo/Bucket/StorageClass, ServerSideEncryptionRule/SSEAlgorithm). */
export interface OssBucketFacts {
  bucket: string;
  /** GetBucketInfo's Location: the OSS region id, `oss-` and the ECS region (oss-cn-hangzhou). */
  location?: string | undefined;
  storageClass: string;
  sseAlgorithm?: string | undefined;
}

/**
 * ECS "Export a custom image": the OSS bucket must be in the image's region and readable at once; Archive
 * and Cold Archive buckets are not (objects need a restore), and ECS cannot write into an encrypted bucket.
 */
export function ossExportBucketRules(b: OssBucketFacts, ecsRegion: string): Finding[] {
  const out: Finding[] = [];
  // ExportImage "exports a custom image to an OSS bucket in the same region" (ECS API reference).
  if (b.location && b.location !== `oss-${ecsRegion}`) {
    out.push(finding('error', 'oss-region', 'InvalidParameter', `OSS bucket ${b.bucket} is in ${b.location}, the image in ${ecsRegion}`, `Export to a bucket in oss-${ecsRegion}, or copy the image to ${b.location.replace(/^oss-/, '')} first.`));
  }
  if (/^(Archive|ColdArchive|DeepColdArchive)$/i.test(b.storageClass)) {
    out.push(finding('error', 'oss-storage-class', 'InvalidParameter', `OSS bucket ${b.bucket} has storage class ${b.storageClass}`, 'Export to a Standard or Infrequent Access bucket.'));
  }
  if (b.sseAlgorithm && b.sseAlgorithm !== 'None') {
    out.push(finding('error', 'oss-encrypted', 'InvalidParameter', `OSS bucket ${b.bucket} encrypts objects with ${b.sseAlgorithm}`, 'Export to a bucket without server-side encryption.'));
  }
  return out;
}
