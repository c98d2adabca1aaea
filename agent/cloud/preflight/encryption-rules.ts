import { finding, type Finding } from './finding.js';

export interface EncryptionParams {
  encrypted?: boolean | undefined;
  kmsKeyId?: string | undefined;
  encryptAlgorithm?: string | undefined;
}

/**
 * ECS (CopyImage / ImportImage error codes): KMSKeyId without Encrypted=true is
 * InvalidParameter.EncryptedIllegal; EncryptAlgorithm without Encrypted=true is
 * InvalidEncrypted.NotMatchEncryptAlgorithm.
 */
export function ecsEncryptionRules(p: EncryptionParams): Finding[] {
  const out: Finding[] = [];
  if (p.kmsKeyId && p.encrypted !== true) {
    out.push(finding('error', 'ecs-kms-without-encrypted', 'InvalidParameter.EncryptedIllegal', `KMSKeyId ${p.kmsKeyId} is set but Encrypted is not true`, 'Set Encrypted=true (--encrypted) with a KMS key, or drop the key.'));
  }
  if (p.encryptAlgorithm && p.encrypted !== true) {
    out.push(finding('error', 'ecs-algorithm-without-encrypted', 'InvalidEncrypted.NotMatchEncryptAlgorithm', `EncryptAlgorithm ${p.encryptAlgorithm} is set but Encrypted is not true`, 'Set Encrypted=true (--encrypted) with an algorithm, or drop the algorithm.'));
  }
  return out;
}

/**
 * AWS ImportImage/ImportSnapshot/CopyImage: "If you specify KmsKeyId, you must also set the encrypted
 * flag" (API reference, KmsKeyId) — EC2 answers InvalidParameterDependency.
 */
export function awsEncryptionRules(p: EncryptionParams): Finding[] {
  if (!p.kmsKeyId || p.encrypted === true) return [];
  return [finding('error', 'aws-kms-without-encrypted', 'InvalidParameterDependency', `KmsKeyId ${p.kmsKeyId} is set but Encrypted is not true`, 'Add --encrypted when naming a KMS key.')];
}

/** AWS ImportImage: LicenseType and UsageOperation are mutually exclusive (InvalidParameterCombination). */
export function awsLicenseRules(p: { licenseType?: string | undefined; usageOperation?: string | undefined }): Finding[] {
  if (!p.licenseType || !p.usageOperation) return [];
  return [finding('error', 'aws-license-and-usage', 'InvalidParameterCombination', `both LicenseType (${p.licenseType}) and UsageOperation (${p.usageOperation}) are set`, 'Give either a license type or a usage operation, not both.')];
}
