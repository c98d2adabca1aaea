/** Export formats each cloud documents (kept apart from the SDK-backed modules so the CLI loads fast). */

/** EC2 ExportImage DiskImageFormat: VMDK | RAW | VHD. */
export type AwsExportFormat = 'vmdk' | 'vhd' | 'raw';
export const AWS_EXPORT_FORMATS: readonly AwsExportFormat[] = ['vmdk', 'vhd', 'raw'];

/** ECS ExportImage ImageFormat: RAW (default), VHD, qcow2, VMDK, VDI (format choice in some regions only). */
export type EcsExportFormat = 'raw' | 'vhd' | 'qcow2' | 'vmdk' | 'vdi';
export const ECS_EXPORT_FORMATS: readonly EcsExportFormat[] = ['raw', 'vhd', 'qcow2', 'vmdk', 'vdi'];

/** CreateInstanceExportTask: ExportToS3Task.DiskImageFormat and TargetEnvironment. */
export const AWS_INSTANCE_DISK_FORMATS = ['VMDK', 'VHD', 'RAW'] as const;
export type AwsInstanceDiskFormat = (typeof AWS_INSTANCE_DISK_FORMATS)[number];
export const AWS_TARGET_ENVIRONMENTS = ['vmware', 'citrix', 'microsoft'] as const;
export type AwsTargetEnvironment = (typeof AWS_TARGET_ENVIRONMENTS)[number];
