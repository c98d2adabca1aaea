import type { AwsClients } from '../aws/aws-clients.js';
import { awsRoleFacts, s3BucketFacts } from '../aws/aws-checks.js';
import { finding, type Finding } from './finding.js';
import { cloudCodeOfError } from '../cloud-error.js';
import type { ImportPreflightRequest } from './local-preflight.js';
import { roleRules } from './role-rules.js';
import { awsExportBucketRules } from './bucket-rules.js';

/** The AWS import role (vmimport by default), asked of IAM GetRole. */
export async function awsImportRolePreflight(req: ImportPreflightRequest, clients: AwsClients, signal?: AbortSignal): Promise<Finding[]> {
  return roleRules(await awsRoleFacts(clients, req.aws?.roleName ?? 'vmimport', signal));
}

/**
 * ExportImage needs the vmimport role; CreateInstanceExportTask takes none (its bucket ACL grant to the
 * region's VM Import/Export account is all it needs: VM Import/Export user guide, "Exporting an
 * instance"), so `roleName: null` skips the role. Both: the bucket's ownership, ACL and encryption.
 */
export async function awsExportPreflight(clients: AwsClients, bucket: string, roleName: string | null = 'vmimport', signal?: AbortSignal): Promise<Finding[]> {
  const role = roleName === null ? [] : roleRules(await awsRoleFacts(clients, roleName, signal));
  return [...role, ...(await bucketFindings(clients, bucket, signal))];
}

/**
 * The bucket's ownership, ACL and encryption; a caller that may not read them (AccessDenied) gets a
 * warning that the bucket is unverified, not a refusal: the export itself may still be allowed to write.
 */
async function bucketFindings(clients: AwsClients, bucket: string, signal?: AbortSignal): Promise<Finding[]> {
  try {
    return awsExportBucketRules(await s3BucketFacts(clients, bucket, signal));
  } catch (err) {
    if (cloudCodeOfError(err) !== 'AccessDenied') throw err;
    return [finding('warning', 'bucket-unverified', 'AccessDenied', `the export bucket ${bucket} could not be verified: reading its ownership, ACL or encryption was refused (AccessDenied)`, 'Grant s3:GetBucketOwnershipControls, s3:GetBucketAcl and s3:GetEncryptionConfiguration to check it, or check the bucket by hand (VM Import/Export User Guide, export prerequisites).')];
  }
}
