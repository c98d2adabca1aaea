import { finding, type Finding, type ImportTarget } from './finding.js';

export interface SnapshotOnlyParams {
  target?: ImportTarget | undefined;
  licenseType?: string | undefined;
  usageOperation?: string | undefined;
  bootMode?: string | undefined;
  platform?: string | undefined;
  architecture?: string | undefined;
}

/**
 * ImportSnapshot takes ClientData, ClientToken, Description, DiskContainer, DryRun, Encrypted, KmsKeyId,
 * RoleName and TagSpecifications only (EC2 API reference, ImportSnapshot). A boot mode or platform asks
 * vmxfer to register the snapshots as an AMI with ImportImage (ImageDiskContainer.SnapshotId), which
 * takes Architecture, LicenseType and UsageOperation too; without that registration they have nowhere to go.
 */
const IMAGE_ONLY: Array<{ key: keyof SnapshotOnlyParams; flag: string; field: string }> = [
  { key: 'architecture', flag: '--architecture', field: 'import.architecture' },
  { key: 'licenseType', flag: '--license-type', field: 'import.licenseType' },
  { key: 'usageOperation', flag: '--usage-operation', field: 'import.usageOperation' },
];

export function awsSnapshotParameterRules(p: SnapshotOnlyParams): Finding[] {
  if (p.target !== 'aws-snapshot') return [];
  if (p.bootMode !== undefined || p.platform !== undefined) return uefiPlatformRule(p);
  return IMAGE_ONLY.filter((r) => p[r.key] !== undefined).map((r) =>
    finding('error', 'aws-snapshot-parameter', 'UnknownParameter', `${r.flag} (${r.field}) ${p[r.key]} is not an ImportSnapshot parameter`, `Drop it, import with --import aws-image, or add --boot-mode / --platform (import.bootMode / import.platform) so vmxfer registers the snapshots as an AMI with ImportImage, which takes it.`),
  );
}

/** ImportImage Platform: "If you import a VM that is compatible with UEFI using an EBS snapshot, you must specify a value for the platform." */
function uefiPlatformRule(p: SnapshotOnlyParams): Finding[] {
  if (p.bootMode !== 'uefi' || p.platform !== undefined) return [];
  return [finding('error', 'aws-snapshot-uefi-platform', 'MissingParameter', '--boot-mode uefi (import.bootMode) registers UEFI snapshots as an AMI, and ImportImage requires a platform with UEFI snapshots', 'Add --platform Windows|Linux (import.platform).')];
}
