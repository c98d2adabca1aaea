import type { AwsImportParams } from '../aws/aws-import.js';
import type { EcsImportParams } from '../ecs/ecs-import.js';
import type { Finding, ImportTarget } from './finding.js';
import type { ImageFacts } from './image-facts.js';
import { formatRules } from './format-rules.js';
import { sizeRules } from './size-rules.js';
import { awsParameterRules, ecsParameterRules } from './parameter-rules.js';
import { snapshotsMakeImage } from '../distribute/distributed-image.js';

export interface ImportPreflightRequest {
  target: ImportTarget;
  image: ImageFacts;
  /** False when the upload keeps the original bytes (nothing can be repaired on the way). */
  convertAllowed: boolean;
  manifest?: boolean | undefined;
  /** Disks already in the bucket that the same import names (--import-disk, import.extraDisks). */
  extraVolumes?: number | undefined;
  aws?: Pick<AwsImportParams, 'encrypted' | 'kmsKeyId' | 'licenseType' | 'usageOperation' | 'tags' | 'roleName'> & Partial<Pick<AwsImportParams, 'bootMode' | 'platform' | 'architecture'>> | undefined;
  ecs?: Partial<Pick<EcsImportParams, 'imageName' | 'description' | 'tags' | 'roleName'>> | undefined;
}

/** Every rule that needs no network: formats, sizes, volume count, names, tags, encryption, license. */
export function localImportPreflight(req: ImportPreflightRequest): Finding[] {
  const params = req.target === 'ecs-image' ? ecsParameterRules(req.ecs ?? {}) : awsParameterRules({ ...req.aws, target: req.target });
  const registersImage = req.target === 'aws-snapshot' && snapshotsMakeImage(req.aws ?? {});
  return [...formatRules(req), ...sizeRules({ ...req, registersImage }), ...params];
}
