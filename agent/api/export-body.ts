import { AWS_EXPORT_FORMATS, AWS_TARGET_ENVIRONMENTS, ECS_EXPORT_FORMATS, type AwsExportFormat, type AwsTargetEnvironment } from '../cloud/export-formats.js';
import type { AwsInstanceExportOptions, ExportOptions } from '../cloud/export-options.js';
import { ossPrefixRules } from '../cloud/preflight/name-rules.js';
import { bad, obj, str } from './body-fields.js';

const FIELDS = ['cloud', 'imageId', 'instanceId', 'format', 'targetEnvironment', 'bucket', 'prefix', 'roleName', 'preflight', 'dryRun'];

/**
 * docs/api.md "Export jobs": `export` names the image (or, on AWS, the instance), the export format and
 * the bucket (S3 for aws, OSS for ecs) the cloud writes to before the job downloads the object.
 */
export function parseExportBody(raw: unknown): ExportOptions {
  const o = obj(raw, 'export');
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) throw bad(`export.${k}`, 'is not a field of an export');
  const cloud = str(o.cloud, 'export.cloud');
  if (cloud !== 'aws' && cloud !== 'ecs') throw bad('export.cloud', 'must be aws or ecs');
  for (const k of ['preflight', 'dryRun']) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw bad(`export.${k}`, 'must be true or false');
  // DryRun exists on EC2 and ECS ExportImage; CreateInstanceExportTask lists no such parameter.
  if (o.dryRun !== undefined && o.instanceId !== undefined) throw bad('export.dryRun', 'applies to image exports only (CreateInstanceExportTask has no DryRun)');
  const checks = { ...(o.preflight === undefined ? {} : { preflight: o.preflight as boolean }), ...(o.dryRun === undefined ? {} : { dryRun: o.dryRun as boolean }) };
  const formats: readonly string[] = cloud === 'aws' ? AWS_EXPORT_FORMATS : ECS_EXPORT_FORMATS;
  const format = str(o.format, 'export.format');
  if (!formats.includes(format)) throw bad('export.format', `must be one of ${formats.join(', ')} for ${cloud}`);
  if (o.instanceId !== undefined) return { ...parseInstanceExport(o, cloud, format as AwsExportFormat), ...checks };
  if (o.targetEnvironment !== undefined) throw bad('export.targetEnvironment', 'applies to instance exports (instanceId) only');
  if (o.imageId === undefined) throw bad('export.imageId', cloud === 'aws' ? 'is required: an aws export names an imageId (ami-…) or an instanceId (i-…)' : 'is required');
  const imageId = str(o.imageId, 'export.imageId');
  if (!(cloud === 'aws' ? /^ami-[0-9a-f]{8,17}$/ : /^m-[0-9a-z]+$/).test(imageId)) throw bad('export.imageId', `must be ${cloud === 'aws' ? 'an AMI id (ami-…)' : 'an ECS image id (m-…)'}`);
  const prefix = o.prefix === undefined ? '' : str(o.prefix, 'export.prefix');
  // ECS ExportImage: OSSPrefix is required, 1-30 letters or digits (ExportImage request parameters).
  if (cloud === 'ecs' && (prefix === '' || ossPrefixRules(prefix).some((f) => f.severity === 'error'))) throw bad('export.prefix', 'must be 1 to 30 letters or digits for an ECS export');
  const common = { imageId, bucket: str(o.bucket, 'export.bucket'), prefix, roleName: o.roleName === undefined ? undefined : str(o.roleName, 'export.roleName') };
  return cloud === 'aws' ? { cloud, format: format as 'vmdk', ...common, ...checks } : { cloud, format: format as 'qcow2', ...common, ...checks };
}

/**
 * An AWS instance export (CreateInstanceExportTask): instance ids are `i-` and 8 or 17 hex digits
 * (EC2 "Resource IDs"); TargetEnvironment is required by the call; it has no RoleName parameter.
 */
function parseInstanceExport(o: Record<string, unknown>, cloud: 'aws' | 'ecs', format: AwsExportFormat): AwsInstanceExportOptions {
  if (cloud !== 'aws') throw bad('export.instanceId', 'applies to aws only (ECS exports images: imageId)');
  if (o.imageId !== undefined) throw bad('export.instanceId', 'an export names an imageId or an instanceId, not both');
  const instanceId = str(o.instanceId, 'export.instanceId');
  if (!/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(instanceId)) throw bad('export.instanceId', 'must be an EC2 instance id (i- and 8 or 17 hex digits)');
  if (o.targetEnvironment === undefined) throw bad('export.targetEnvironment', `is required for an instance export: ${AWS_TARGET_ENVIRONMENTS.join(', ')}`);
  const targetEnvironment = str(o.targetEnvironment, 'export.targetEnvironment');
  if (!(AWS_TARGET_ENVIRONMENTS as readonly string[]).includes(targetEnvironment)) throw bad('export.targetEnvironment', `must be one of ${AWS_TARGET_ENVIRONMENTS.join(', ')}`);
  if (o.roleName !== undefined) throw bad('export.roleName', 'CreateInstanceExportTask takes no role: an instance export writes to the bucket through its ACL');
  const prefix = o.prefix === undefined ? '' : str(o.prefix, 'export.prefix');
  return { cloud, instanceId, format, targetEnvironment: targetEnvironment as AwsTargetEnvironment, bucket: str(o.bucket, 'export.bucket'), prefix };
}
