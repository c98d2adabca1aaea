import EcsSdk from '@alicloud/ecs20140526';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { ecsCall, ecsDryRun, type EcsClients } from './ecs-clients.js';

export interface EcsUploadedDisk {
  ossBucket: string;
  ossObject: string;
  /** RAW | VHD | qcow2 | VMDK (DiskDeviceMapping.Format). */
  format: string;
  /** DiskImageSize in GiB (system disk 1-2048 per the API reference; data disks 1-2048). */
  sizeGiB?: number | undefined;
}

export interface EcsImportParams {
  target: 'ecs-image';
  imageName: string;
  disks: EcsUploadedDisk[];
  description?: string | undefined;
  /** windows | linux */
  osType?: string | undefined;
  /** CentOS, Ubuntu, Windows Server 2019, Others Linux, ... */
  platform?: string | undefined;
  /** x86_64 | arm64 */
  architecture?: string | undefined;
  /** BIOS | UEFI */
  bootMode?: string | undefined;
  /** Auto | Aliyun | BYOL */
  licenseType?: string | undefined;
  /** Default AliyunECSImageImportDefaultRole. */
  roleName?: string | undefined;
  tags?: Record<string, string> | undefined;
  clientToken?: string | undefined;
}

function request(clients: EcsClients, p: EcsImportParams, dryRun: boolean) {
  return new EcsSdk.ImportImageRequest({
    regionId: clients.region,
    imageName: p.imageName,
    description: p.description,
    OSType: p.osType,
    platform: p.platform,
    architecture: p.architecture,
    bootMode: p.bootMode,
    licenseType: p.licenseType,
    roleName: p.roleName,
    clientToken: p.clientToken,
    dryRun,
    // DiskDeviceMapping.N: the first is the system disk, the rest data disks (ImportImage request parameters).
    diskDeviceMapping: p.disks.map((d) => new EcsSdk.ImportImageRequestDiskDeviceMapping({ OSSBucket: d.ossBucket, OSSObject: d.ossObject, format: d.format, diskImageSize: d.sizeGiB })),
    tag: p.tags ? Object.entries(p.tags).map(([key, value]) => new EcsSdk.ImportImageRequestTag({ key, value })) : undefined,
  });
}

export function dryRunEcsImport(clients: EcsClients, p: EcsImportParams, signal?: AbortSignal): Promise<void> {
  const ecs = clients.ecsIn(clients.region);
  return ecsDryRun(clients, 'ImportImage', () => ecs.importImageWithOptions(request(clients, p, true), clients.runtime), signal);
}

/** ImportImage: returns the task id and the id the image will have. */
export async function startEcsImport(clients: EcsClients, p: EcsImportParams, signal?: AbortSignal): Promise<{ taskId: string; imageId: string }> {
  const ecs = clients.ecsIn(clients.region);
  const out = await ecsCall(clients, 'ImportImage', () => ecs.importImageWithOptions(request(clients, p, false), clients.runtime), signal);
  const { taskId, imageId } = out.body ?? {};
  if (!taskId || !imageId) throw vmxError(CLOUD.BAD_RESPONSE, `ImportImage answered without TaskId and ImageId (request id ${out.body?.requestId ?? '-'})`);
  return { taskId, imageId };
}
