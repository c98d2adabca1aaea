import EcsSdk from '@alicloud/ecs20140526';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { ecsCall, ecsDryRun, type EcsClients } from './ecs-clients.js';

import type { EcsExportFormat } from '../export-formats.js';

export { ECS_EXPORT_FORMATS, type EcsExportFormat } from '../export-formats.js';

export interface EcsExportParams {
  imageId: string;
  format: EcsExportFormat;
  ossBucket: string;
  ossPrefix: string;
  /** Default AliyunECSImageExportDefaultRole. */
  roleName?: string | undefined;
}

function request(clients: EcsClients, p: EcsExportParams, dryRun: boolean) {
  return new EcsSdk.ExportImageRequest({
    dryRun,
    regionId: clients.region,
    imageId: p.imageId,
    imageFormat: p.format.toUpperCase() === 'QCOW2' ? 'qcow2' : p.format.toUpperCase(),
    OSSBucket: p.ossBucket,
    OSSPrefix: p.ossPrefix,
    roleName: p.roleName,
  });
}

/** ExportImage with DryRun=true (the SDK's ExportImageRequest.DryRun): resolves when ECS answers DryRunOperation. */
export function dryRunEcsExport(clients: EcsClients, p: EcsExportParams, signal?: AbortSignal): Promise<void> {
  const ecs = clients.ecsIn(clients.region);
  return ecsDryRun(clients, 'ExportImage', () => ecs.exportImageWithOptions(request(clients, p, true), clients.runtime), signal);
}

/** ExportImage: ImageFormat (RAW default, some regions only), OSSBucket, OSSPrefix (1-30 letters or digits). */
export async function startEcsExport(clients: EcsClients, p: EcsExportParams, signal?: AbortSignal): Promise<string> {
  const ecs = clients.ecsIn(clients.region);
  const out = await ecsCall(clients, 'ExportImage', () => ecs.exportImageWithOptions(request(clients, p, false), clients.runtime), signal);
  if (!out.body?.taskId) throw vmxError(CLOUD.BAD_RESPONSE, `ExportImage of ${p.imageId} answered without a TaskId`);
  return out.body.taskId;
}
