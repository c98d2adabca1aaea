import {
  CancelImportTaskCommand,
  DescribeImportImageTasksCommand,
  DescribeImportSnapshotTasksCommand,
  ImportImageCommand,
  ImportSnapshotCommand,
  type ImageDiskContainer,
  type TagSpecification,
} from '@aws-sdk/client-ec2';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import type { PolledState } from '../poll-task.js';
import { awsCall, ec2DryRun, type AwsClients } from './aws-clients.js';
import { importVerdict, percent } from './aws-task-state.js';

/** One uploaded disk: where it is and which format its bytes are (ImageDiskContainer.Format). */
export interface UploadedDisk {
  bucket: string;
  key: string;
  /** OVA | VHD | VHDX | VMDK | RAW */
  format: string;
  deviceName?: string | undefined;
}

export interface AwsImportParams {
  target: 'aws-image' | 'aws-snapshot';
  disks: UploadedDisk[];
  description?: string | undefined;
  licenseType?: string | undefined;
  usageOperation?: string | undefined;
  /** legacy-bios | uefi | uefi-preferred (ImportImage BootMode) */
  bootMode?: string | undefined;
  architecture?: string | undefined;
  /** Windows | Linux (ImportImage Platform; required when UEFI snapshots are registered as an AMI). */
  platform?: string | undefined;
  encrypted?: boolean | undefined;
  kmsKeyId?: string | undefined;
  /** Default vmimport. */
  roleName?: string | undefined;
  tags?: Record<string, string> | undefined;
  /** ClientToken: the same token makes a retried request return the same task. */
  clientToken?: string | undefined;
}

function tagSpec(resourceType: 'import-image-task' | 'import-snapshot-task', tags: Record<string, string> | undefined): TagSpecification[] | undefined {
  if (!tags || Object.keys(tags).length === 0) return undefined;
  return [{ ResourceType: resourceType, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }];
}

function containers(disks: UploadedDisk[]): ImageDiskContainer[] {
  // ImportImage: one DiskContainer per disk; the first is the boot volume (API reference, DiskContainers).
  return disks.map((d) => ({ Format: d.format, UserBucket: { S3Bucket: d.bucket, S3Key: d.key }, ...(d.deviceName ? { DeviceName: d.deviceName } : {}) }));
}

function imageInput(p: AwsImportParams, dryRun: boolean, disks: ImageDiskContainer[] = containers(p.disks)) {
  return {
    DryRun: dryRun,
    DiskContainers: disks,
    Description: p.description,
    LicenseType: p.licenseType,
    UsageOperation: p.usageOperation,
    BootMode: p.bootMode as never,
    Architecture: p.architecture,
    Platform: p.platform,
    Encrypted: p.encrypted,
    KmsKeyId: p.kmsKeyId,
    RoleName: p.roleName ?? 'vmimport',
    TagSpecifications: tagSpec('import-image-task', p.tags),
    ClientToken: p.clientToken,
  };
}

function snapshotInput(p: AwsImportParams, dryRun: boolean) {
  const d = p.disks[0]!;
  return {
    DryRun: dryRun,
    // Every ImportSnapshot parameter the flags can fill (EC2 API reference, ImportSnapshot); the image
    // properties it lacks (boot mode, platform, ...) go to the ImportImage that registers the snapshots.
    DiskContainer: { Format: d.format, UserBucket: { S3Bucket: d.bucket, S3Key: d.key }, Description: p.description },
    Description: p.description,
    Encrypted: p.encrypted,
    KmsKeyId: p.kmsKeyId,
    RoleName: p.roleName ?? 'vmimport',
    TagSpecifications: tagSpec('import-snapshot-task', p.tags),
    ClientToken: p.clientToken,
  };
}

/** ImportImage or ImportSnapshot with DryRun=true: resolves when the API says DryRunOperation. */
export function dryRunAwsImport(clients: AwsClients, p: AwsImportParams, signal?: AbortSignal): Promise<void> {
  if (p.target === 'aws-snapshot') return ec2DryRun(clients, 'ImportSnapshot', () => clients.ec2.send(new ImportSnapshotCommand(snapshotInput(p, true)), { abortSignal: signal }), signal);
  return ec2DryRun(clients, 'ImportImage', () => clients.ec2.send(new ImportImageCommand(imageInput(p, true)), { abortSignal: signal }), signal);
}

/** Starts the import and returns the task id (import-ami-… / import-snap-…). */
export async function startAwsImport(clients: AwsClients, p: AwsImportParams, signal?: AbortSignal): Promise<string> {
  const out = p.target === 'aws-snapshot'
    ? await awsCall(clients, 'ImportSnapshot', () => clients.ec2.send(new ImportSnapshotCommand(snapshotInput(p, false)), { abortSignal: signal }), signal)
    : await awsCall(clients, 'ImportImage', () => clients.ec2.send(new ImportImageCommand(imageInput(p, false)), { abortSignal: signal }), signal);
  if (!out.ImportTaskId) throw vmxError(CLOUD.BAD_RESPONSE, `aws ${p.target} import answered without an ImportTaskId`);
  return out.ImportTaskId;
}

/**
 * ImportImage with EBS snapshots as its disk containers (ImageDiskContainer.SnapshotId), the boot disk
 * first: the registration of an aws-snapshot import as an AMI. Every other ImportImage parameter is the
 * import's own ("Import single or multi-volume disk images or EBS snapshots into an AMI", ImportImage).
 */
function snapshotImageInput(p: AwsImportParams, snapshotIds: string[], dryRun: boolean) {
  return imageInput(p, dryRun, snapshotIds.map((SnapshotId) => ({ SnapshotId })));
}

/** Registers the snapshots as an AMI (ImportImage, DryRun first when asked); returns the import-ami task id. */
export async function startSnapshotImage(clients: AwsClients, p: AwsImportParams, snapshotIds: string[], dryRunFirst: boolean, signal?: AbortSignal): Promise<string> {
  if (dryRunFirst) await ec2DryRun(clients, 'ImportImage', () => clients.ec2.send(new ImportImageCommand(snapshotImageInput(p, snapshotIds, true)), { abortSignal: signal }), signal);
  const out = await awsCall(clients, 'ImportImage', () => clients.ec2.send(new ImportImageCommand(snapshotImageInput(p, snapshotIds, false)), { abortSignal: signal }), signal);
  if (!out.ImportTaskId) throw vmxError(CLOUD.BAD_RESPONSE, 'ImportImage of the snapshots answered without an ImportTaskId');
  return out.ImportTaskId;
}

export interface AwsImportResult {
  /** AMI id (aws-image) or snapshot id (aws-snapshot). */
  resourceId: string | undefined;
}

export async function describeAwsImport(clients: AwsClients, target: AwsImportParams['target'], taskId: string, signal?: AbortSignal): Promise<PolledState<AwsImportResult>> {
  if (target === 'aws-snapshot') {
    const out = await awsCall(clients, 'DescribeImportSnapshotTasks', () => clients.ec2.send(new DescribeImportSnapshotTasksCommand({ ImportTaskIds: [taskId] }), { abortSignal: signal }), signal);
    const d = out.ImportSnapshotTasks?.find((t) => t.ImportTaskId === taskId)?.SnapshotTaskDetail;
    if (!d?.Status) throw vmxError(CLOUD.BAD_RESPONSE, `DescribeImportSnapshotTasks did not list ${taskId} with a status`);
    return { status: { kind: target, id: taskId, state: d.Status, message: d.StatusMessage ?? '', progress: percent(d.Progress) }, verdict: importVerdict(d.Status), raw: { resourceId: d.SnapshotId } };
  }
  const out = await awsCall(clients, 'DescribeImportImageTasks', () => clients.ec2.send(new DescribeImportImageTasksCommand({ ImportTaskIds: [taskId] }), { abortSignal: signal }), signal);
  const t = out.ImportImageTasks?.find((x) => x.ImportTaskId === taskId);
  if (!t?.Status) throw vmxError(CLOUD.BAD_RESPONSE, `DescribeImportImageTasks did not list ${taskId} with a status`);
  return { status: { kind: target, id: taskId, state: t.Status, message: t.StatusMessage ?? '', progress: percent(t.Progress) }, verdict: importVerdict(t.Status), raw: { resourceId: t.ImageId } };
}

export async function cancelAwsImport(clients: AwsClients, taskId: string, reason: string): Promise<void> {
  await awsCall(clients, 'CancelImportTask', () => clients.ec2.send(new CancelImportTaskCommand({ ImportTaskId: taskId, CancelReason: reason })));
}
