import { randomUUID } from 'node:crypto';
import type { AwsExportFormat, AwsTargetEnvironment, EcsExportFormat } from './export-formats.js';

/**
 * An AWS instance export run as an API job: CreateInstanceExportTask writes an OVA holding the
 * instance's disks in `format` for `targetEnvironment`. The call takes no RoleName (EC2 API reference,
 * CreateInstanceExportTask request parameters), so the options carry none.
 */
export interface AwsInstanceExportOptions {
  cloud: 'aws';
  instanceId: string;
  format: AwsExportFormat;
  targetEnvironment: AwsTargetEnvironment;
  bucket: string;
  prefix: string;
  /** False skips the bucket-readiness preflight the job runs while it validates (default true). */
  preflight?: boolean | undefined;
}

/** What every export job may also say: skip the preflight; image exports (AWS, ECS): skip the DryRun (both default true). */
interface ExportChecks {
  preflight?: boolean | undefined;
  dryRun?: boolean | undefined;
}

/**
 * An export run as an API job (docs/api.md "Export jobs"): AWS ExportImage or CreateInstanceExportTask
 * into an S3 bucket, or ECS ExportImage into an OSS bucket, then the object downloaded to the job's destination.
 */
export type ExportOptions =
  | ({ cloud: 'aws'; imageId: string; format: AwsExportFormat; bucket: string; prefix: string; roleName?: string | undefined; clientToken?: string | undefined } & ExportChecks)
  | AwsInstanceExportOptions
  | ({ cloud: 'ecs'; imageId: string; format: EcsExportFormat; bucket: string; prefix: string; roleName?: string | undefined } & ExportChecks);

/**
 * An AWS image export's ClientToken, fixed when the job is submitted: a job whose daemon died after
 * ExportImage ran, before the task id was saved, gets the same task back (ExportImage ClientToken).
 * CreateInstanceExportTask and ECS ExportImage document no ClientToken.
 */
export function withExportToken(e: ExportOptions): ExportOptions {
  return e.cloud === 'aws' && !isInstanceExport(e) ? { ...e, clientToken: e.clientToken ?? randomUUID() } : e;
}

export function isInstanceExport(e: ExportOptions): e is AwsInstanceExportOptions {
  return 'instanceId' in e;
}

/** The job's `source`: the cloud and what it exports (`aws:ami-…`, `aws:i-…`, `ecs:m-…`). */
export function exportSource(e: ExportOptions): string {
  return `${e.cloud}:${isInstanceExport(e) ? e.instanceId : e.imageId}`;
}

/** Where the exported object is read from, as a store URL the transfer download opens. */
export function exportedObjectUrl(cloud: 'aws' | 'ecs', bucket: string, key: string): string {
  return `${cloud === 'aws' ? 's3' : 'oss'}://${bucket}/${key}`;
}
