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
 * RoleName and TagSpecifications only (EC2 API reference, ImportSnapshot); EC2 answers any other
 * parameter with UnknownParameter. These image properties belong to the AMI made from the snapshot:
 * RegisterImage takes BootMode and Architecture, ImportImage with a SnapshotId disk container takes
 * Platform ("If you import a VM that is compatible with UEFI using an EBS snapshot, you must specify a
 * value for the platform", ImportImage Platform), LicenseType and UsageOperation.
 */
const SNAPSHOT_REFUSED: Array<{ key: keyof SnapshotOnlyParams; flag: string; field: string; then: string }> = [
  { key: 'bootMode', flag: '--boot-mode', field: 'import.bootMode', then: 'register the snapshot as an AMI with RegisterImage --boot-mode (or ImportImage with the snapshot as its disk container and BootMode)' },
  { key: 'architecture', flag: '--architecture', field: 'import.architecture', then: 'register the snapshot as an AMI with RegisterImage --architecture' },
  { key: 'platform', flag: '--platform', field: 'import.platform', then: 'pass the platform to ImportImage with the snapshot as its disk container (SnapshotId), which a UEFI image from a snapshot requires' },
  { key: 'licenseType', flag: '--license-type', field: 'import.licenseType', then: 'import the disk with --import aws-image --license-type, or give the license to ImportImage with the snapshot as its disk container' },
  { key: 'usageOperation', flag: '--usage-operation', field: 'import.usageOperation', then: 'import the disk with --import aws-image --usage-operation, or give it to ImportImage with the snapshot as its disk container' },
];

export function awsSnapshotParameterRules(p: SnapshotOnlyParams): Finding[] {
  if (p.target !== 'aws-snapshot') return [];
  return SNAPSHOT_REFUSED.filter((r) => p[r.key] !== undefined).map((r) =>
    finding('error', 'aws-snapshot-parameter', 'UnknownParameter', `${r.flag} (${r.field}) ${p[r.key]} is not an ImportSnapshot parameter`, `Drop it and ${r.then}.`),
  );
}
