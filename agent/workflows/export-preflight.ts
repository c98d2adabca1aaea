import { isInstanceExport, type ExportOptions } from '../cloud/export-options.js';
import type { Finding } from '../cloud/preflight/finding.js';
import type { CloudConnections } from '../cloud/upload-import/import-step-params.js';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';

/**
 * The bucket checks of an export, before any task exists (the findings, errors included; the caller
 * refuses). The SDKs load only here, as in export.ts.
 */
export async function exportFindings(e: ExportOptions, connections: CloudConnections, ossEndpoint: string | undefined, signal: AbortSignal): Promise<Finding[]> {
  if (e.cloud === 'aws') {
    if (!connections.aws) throw vmxError(CORE.USAGE, 'an aws export needs cloud.aws_region (or stores.s3_region, AWS_REGION)');
    const [{ awsClients }, { awsExportPreflight }] = await Promise.all([import('../cloud/aws/aws-clients.js'), import('../cloud/preflight/aws-remote-preflight.js')]);
    // CreateInstanceExportTask takes no role: only the bucket is checked for an instance export.
    return awsExportPreflight(awsClients(connections.aws), e.bucket, isInstanceExport(e) ? null : e.roleName ?? 'vmimport', signal);
  }
  if (!connections.ecs) throw vmxError(CORE.USAGE, 'an ecs export needs cloud.ecs_region (or stores.oss_region, ALIBABA_CLOUD_REGION_ID)');
  const [{ ecsClients }, { ossClient, ossConnectionOf }, { ecsExportPreflight }] = await Promise.all([
    import('../cloud/ecs/ecs-clients.js'),
    import('../cloud/ecs/ecs-checks.js'),
    import('../cloud/preflight/ecs-remote-preflight.js'),
  ]);
  const clients = ecsClients(connections.ecs);
  // GetBucketInfo signs with the same credential as ECS: explicit keys or the default chain's (STS) keys.
  const oss = ossClient(await ossConnectionOf(clients, ossEndpoint), e.bucket);
  return ecsExportPreflight(clients, oss, { imageId: e.imageId, ossBucket: e.bucket, ossPrefix: e.prefix, roleName: e.roleName }, signal);
}
