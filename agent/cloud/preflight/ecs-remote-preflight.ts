import type OSS from 'ali-oss';
import type { EcsClients } from '../ecs/ecs-clients.js';
import { ossBucketFacts, ramRoleFacts } from '../ecs/ecs-checks.js';
import { ecsImage } from '../ecs/ecs-tasks.js';
import type { Finding } from './finding.js';
import { GiB } from './image-facts.js';
import type { ImportPreflightRequest } from './local-preflight.js';
import { ecsExportRules } from './size-rules.js';
import { roleRules } from './role-rules.js';
import { ossExportBucketRules } from './bucket-rules.js';
import { ossPrefixRules } from './name-rules.js';

/** The ECS import role (AliyunECSImageImportDefaultRole by default), asked of RAM GetRole. */
export async function ecsImportRolePreflight(req: ImportPreflightRequest, clients: EcsClients, signal?: AbortSignal): Promise<Finding[]> {
  return roleRules(await ramRoleFacts(clients, req.ecs?.roleName ?? 'AliyunECSImageImportDefaultRole', signal));
}

export interface EcsExportPreflightRequest {
  imageId: string;
  ossBucket: string;
  ossPrefix: string;
  roleName?: string | undefined;
}

/** ECS ExportImage: OSS prefix, the export role, the image's data disks, the OSS bucket's class and encryption. */
export async function ecsExportPreflight(clients: EcsClients, oss: OSS | undefined, req: EcsExportPreflightRequest, signal?: AbortSignal): Promise<Finding[]> {
  const out = [...ossPrefixRules(req.ossPrefix)];
  out.push(...roleRules(await ramRoleFacts(clients, req.roleName ?? 'AliyunECSImageExportDefaultRole', signal)));
  const img = await ecsImage(clients, clients.region, req.imageId, signal);
  if (img) out.push(...ecsExportRules({ imageId: req.imageId, dataDiskSizes: img.disks.filter((d) => d.type === 'data').map((d) => d.sizeGiB * GiB) }));
  if (oss) out.push(...ossExportBucketRules(await ossBucketFacts(clients, oss, req.ossBucket, signal), clients.region));
  return out;
}
