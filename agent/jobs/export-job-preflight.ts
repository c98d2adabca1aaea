import { isInstanceExport, type ExportOptions } from '../cloud/export-options.js';
import type { Finding } from '../cloud/preflight/finding.js';
import { connectionsFromConfig } from '../cloud/upload-import/config-connections.js';
import { refuseFindings } from '../cloud/upload-import/refuse-findings.js';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import type { JobRecord } from './job-types.js';
import type { RunContext } from './run-context.js';

/**
 * The preflight of `vmxfer export`, run while an export job validates so that a bucket the cloud could
 * not write fails the job before any task exists: AWS bucket ownership, the VM Import/Export account's
 * grant and SSE-KMS (plus the vmimport role for image exports), OSS storage class and encryption (plus
 * the ECS export role and the image's data disks). Skipped with `export.preflight: false`, and for a job
 * restarted once its task exists. Returns the warnings, which the job shows.
 */
export async function preflightJobExport(job: JobRecord, ctx: RunContext, signal: AbortSignal): Promise<Finding[]> {
  const e = job.export!;
  if (e.preflight === false || job.exportTask || job.exported) return [];
  const findings = await exportFindings(e, ctx, signal);
  refuseFindings(findings, `${e.cloud} export`, 'no export task was created');
  return findings;
}

/** The SDKs load only here, as in agent/workflows/export.ts. */
async function exportFindings(e: ExportOptions, ctx: RunContext, signal: AbortSignal): Promise<Finding[]> {
  const connections = connectionsFromConfig(ctx.config);
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
  const oss = ossClient(await ossConnectionOf(clients, ctx.config.stores.oss_endpoint || undefined), e.bucket);
  return ecsExportPreflight(clients, oss, { imageId: e.imageId, ossBucket: e.bucket, ossPrefix: e.prefix, roleName: e.roleName }, signal);
}
