import type { AwsImportParams } from '../aws/aws-import.js';
import type { EcsImportParams } from '../ecs/ecs-import.js';
import type { Finding } from './finding.js';
import { awsEncryptionRules, awsLicenseRules } from './encryption-rules.js';
import { ecsDescriptionRules, ecsImageNameRules } from './name-rules.js';
import { awsTagRules, ecsTagRules } from './tag-rules.js';
import { awsSnapshotParameterRules, type SnapshotOnlyParams } from './snapshot-rules.js';

/** Every rule that reads only the AWS import parameters (no image, no network). */
export function awsParameterRules(p: Pick<AwsImportParams, 'encrypted' | 'kmsKeyId' | 'licenseType' | 'usageOperation' | 'tags'> & SnapshotOnlyParams): Finding[] {
  return [...awsEncryptionRules(p), ...awsLicenseRules(p), ...awsTagRules(p.tags), ...awsSnapshotParameterRules(p)];
}

/** Every rule that reads only the ECS import parameters. */
export function ecsParameterRules(p: Partial<Pick<EcsImportParams, 'imageName' | 'description' | 'tags'>>): Finding[] {
  return [...ecsImageNameRules(p.imageName), ...ecsDescriptionRules(p.description), ...ecsTagRules(p.tags)];
}
