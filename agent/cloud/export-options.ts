import type { AwsExportFormat, EcsExportFormat } from './export-formats.js';

/**
 * An image export run as an API job (docs/api.md "Export jobs"): AWS ExportImage into an S3 bucket
 * or ECS ExportImage into an OSS bucket, then the object downloaded to the job's destination.
 */
export type ExportOptions =
  | { cloud: 'aws'; imageId: string; format: AwsExportFormat; bucket: string; prefix: string; roleName?: string | undefined }
  | { cloud: 'ecs'; imageId: string; format: EcsExportFormat; bucket: string; prefix: string; roleName?: string | undefined };

/** Where the exported object is read from, as a store URL the transfer download opens. */
export function exportedObjectUrl(cloud: 'aws' | 'ecs', bucket: string, key: string): string {
  return `${cloud === 'aws' ? 's3' : 'oss'}://${bucket}/${key}`;
}
