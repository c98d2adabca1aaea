import { AWS_EXPORT_FORMATS, ECS_EXPORT_FORMATS } from '../cloud/export-formats.js';
import type { ExportOptions } from '../cloud/export-options.js';
import { ossPrefixRules } from '../cloud/preflight/name-rules.js';
import { bad, obj, str } from './body-fields.js';

const FIELDS = ['cloud', 'imageId', 'format', 'bucket', 'prefix', 'roleName'];

/**
 * docs/api.md "Export jobs": `export` names the image, the export format and the bucket (S3 for
 * aws, OSS for ecs) the cloud writes to before the job downloads the object.
 */
export function parseExportBody(raw: unknown): ExportOptions {
  const o = obj(raw, 'export');
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) throw bad(`export.${k}`, 'is not a field of an export');
  const cloud = str(o.cloud, 'export.cloud');
  if (cloud !== 'aws' && cloud !== 'ecs') throw bad('export.cloud', 'must be aws or ecs');
  const formats: readonly string[] = cloud === 'aws' ? AWS_EXPORT_FORMATS : ECS_EXPORT_FORMATS;
  const format = str(o.format, 'export.format');
  if (!formats.includes(format)) throw bad('export.format', `must be one of ${formats.join(', ')} for ${cloud}`);
  const imageId = str(o.imageId, 'export.imageId');
  if (!(cloud === 'aws' ? /^ami-[0-9a-f]{8,17}$/ : /^m-[0-9a-z]+$/).test(imageId)) throw bad('export.imageId', `must be ${cloud === 'aws' ? 'an AMI id (ami-…)' : 'an ECS image id (m-…)'}`);
  const prefix = o.prefix === undefined ? '' : str(o.prefix, 'export.prefix');
  // ECS ExportImage: OSSPrefix is required, 1-30 letters or digits (ExportImage request parameters).
  if (cloud === 'ecs' && (prefix === '' || ossPrefixRules(prefix).some((f) => f.severity === 'error'))) throw bad('export.prefix', 'must be 1 to 30 letters or digits for an ECS export');
  const common = { imageId, bucket: str(o.bucket, 'export.bucket'), prefix, roleName: o.roleName === undefined ? undefined : str(o.roleName, 'export.roleName') };
  return cloud === 'aws' ? { cloud, format: format as 'vmdk', ...common } : { cloud, format: format as 'qcow2', ...common };
}
