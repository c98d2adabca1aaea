import type { AwsImportParams } from '../aws/aws-import.js';
import type { EcsImportParams } from '../ecs/ecs-import.js';
import type { AwsClients } from '../aws/aws-clients.js';
import type { EcsClients } from '../ecs/ecs-clients.js';
import { awsRoleFacts, s3BucketFacts } from '../aws/aws-checks.js';
import { ossBucketFacts, ramRoleFacts } from '../ecs/ecs-checks.js';
import { ecsImage } from '../ecs/ecs-tasks.js';
import type OSS from 'ali-oss';
import type { Finding, ImportTarget } from './finding.js';
import type { ImageFacts } from './image-facts.js';
import { GiB } from './image-facts.js';
import { formatRules } from './format-rules.js';
import { ecsExportRules, sizeRules } from './size-rules.js';
import { awsParameterRules, ecsParameterRules } from './parameter-rules.js';
import { roleRules } from './role-rules.js';
import { awsExportBucketRules, ossExportBucketRules } from './bucket-rules.js';
import { ossPrefixRules } from './name-rules.js';

export interface ImportPreflightRequest {
  target: ImportTarget;
  image: ImageFacts;
  /** False when the upload keeps the original bytes (nothing can be repaired on the way). */
  convertAllowed: boolean;
  manifest?: boolean | undefined;
  aws?: Pick<AwsImportParams, 'encrypted' | 'kmsKeyId' | 'licenseType' | 'usageOperation' | 'tags' | 'roleName'> | undefined;
  ecs?: Partial<Pick<EcsImportParams, 'imageName' | 'description' | 'tags' | 'roleName'>> | undefined;
}

/** Every rule that needs no network: formats, sizes, volume count, names, tags, encryption, license. */
export function localImportPreflight(req: ImportPreflightRequest): Finding[] {
  const params = req.target === 'ecs-image' ? ecsParameterRules(req.ecs ?? {}) : awsParameterRules(req.aws ?? {});
  return [...formatRules(req), ...sizeRules(req), ...params];
}

/** The import role, asked of IAM (vmimport by default) or RAM (AliyunECSImageImportDefaultRole). */
export async function importRolePreflight(req: ImportPreflightRequest, clients: { aws?: AwsClients; ecs?: EcsClients }, signal?: AbortSignal): Promise<Finding[]> {
  if (req.target === 'ecs-image') {
    if (!clients.ecs) return [];
    return roleRules(await ramRoleFacts(clients.ecs, req.ecs?.roleName ?? 'AliyunECSImageImportDefaultRole', signal));
  }
  if (!clients.aws) return [];
  return roleRules(await awsRoleFacts(clients.aws, req.aws?.roleName ?? 'vmimport', signal));
}

/** ExportImage / CreateInstanceExportTask: the vmimport role and the bucket's ownership, ACL and encryption. */
export async function awsExportPreflight(clients: AwsClients, bucket: string, roleName = 'vmimport', signal?: AbortSignal): Promise<Finding[]> {
  const role = roleRules(await awsRoleFacts(clients, roleName, signal));
  return [...role, ...awsExportBucketRules(await s3BucketFacts(clients, bucket, signal))];
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
  if (oss) out.push(...ossExportBucketRules(await ossBucketFacts(clients, oss, req.ossBucket, signal)));
  return out;
}
