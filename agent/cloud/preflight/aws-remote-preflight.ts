import type { AwsClients } from '../aws/aws-clients.js';
import { awsRoleFacts, s3BucketFacts } from '../aws/aws-checks.js';
import type { Finding } from './finding.js';
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
  return [...role, ...awsExportBucketRules(await s3BucketFacts(clients, bucket, signal))];
}
