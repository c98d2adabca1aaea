import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { IMPORT_TARGETS, type ImportTarget } from '../cloud/preflight/finding.js';
import { bootModesFor, cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import type { CloudConnections } from '../cloud/upload-import/import-step-params.js';
import { awsConnection, ecsConnection, oneOf, parseTags } from './cloud-connection.js';
import { checkVolumeCount, parseExtraDisk, type ExtraDisk } from '../cloud/upload-import/extra-disks.js';

/** The flags `vmxfer upload --import` takes; store flags (--endpoint, --region) stay the upload's. */
export const IMPORT_FLAGS = {
  import: { type: 'string' },
  description: { type: 'string' },
  'license-type': { type: 'string' },
  'usage-operation': { type: 'string' },
  'boot-mode': { type: 'string' },
  platform: { type: 'string' },
  architecture: { type: 'string' },
  encrypted: { type: 'boolean' },
  'kms-key-id': { type: 'string' },
  'role-name': { type: 'string' },
  'import-tag': { type: 'string', multiple: true },
  'import-disk': { type: 'string', multiple: true },
  'image-name': { type: 'string' },
  'os-type': { type: 'string' },
  'cloud-region': { type: 'string' },
  'cloud-endpoint': { type: 'string' },
  'poll-seconds': { type: 'string' },
  manifest: { type: 'boolean' },
  'no-role-check': { type: 'boolean' },
  'skip-guest-checks': { type: 'boolean' },
  'no-dry-run': { type: 'boolean' },
} as const;

export const IMPORT_FLAGS_HELP = `Import after the upload (the preflight, with the role check, runs before the first byte; Ctrl-C cancels the cloud task):
  --import TARGET        aws-image (ImportImage), aws-snapshot (ImportSnapshot), ecs-image (ECS ImportImage);
                         without --as, what the preflight repairs picks the format (e.g. stream-optimized VMDK)
  --description TEXT     image description        --role-name NAME   vmimport / AliyunECSImageImportDefaultRole
  --license-type TYPE    AWS: AWS | BYOL; ECS: Auto | Aliyun | BYOL
  --usage-operation OP   AWS billing product code (never with --license-type)
  --boot-mode MODE       AWS: legacy-bios | uefi | uefi-preferred; ECS: BIOS | UEFI
  --platform P           AWS: Windows | Linux; ECS: Ubuntu, CentOS, Others Linux, ...
  --architecture A       x86_64 | arm64 (AWS also i386)
                         aws-snapshot: --boot-mode / --platform register the snapshots as an AMI afterwards (one
                         ImportImage of the snapshots, which also takes --architecture, --license-type,
                         --usage-operation; refused without them); --boot-mode uefi needs --platform
  --encrypted            encrypt the imported snapshots (AWS)   --kms-key-id KEY  the KMS key (needs --encrypted)
  --import-tag K=V       tag of the import task (repeatable)
  --import-disk F=URL    another disk of the VM, already uploaded (repeatable; F: vmdk, vhd, vhdx, raw; ECS also qcow2),
                         e.g. vmdk=s3://bucket/data1.vmdk: one more disk container after the uploaded one
  --image-name NAME      ECS image name (required for ecs-image)  --os-type T  ECS: windows | linux
  --cloud-region R       region of the import (default --region; for ECS without the oss- prefix)
  --cloud-endpoint URL   EC2 (or ECS) API endpoint override
  --poll-seconds S       first wait between two task polls (default 10, backing off to 60)
  --manifest             a VM Import manifest accompanies disks over 8 TiB (AWS; lifts the preflight's 8 TiB refusal,
                         nothing is sent: ImportImage / ImportSnapshot have no manifest parameter)
  --no-role-check        skip the import role check (IAM / RAM GetRole) for credentials without iam:GetRole /
                         ram:GetRole; a GetRole refused with AccessDenied / NoPermission is only a warning anyway
  --no-dry-run           call ImportImage / ImportSnapshot / ECS ImportImage without a DryRun call first
  --skip-guest-checks    skip the checks inside the guest (OS, kernel, boot mode, encryption, fstab; docs/guest.md);
                         the skip is printed as a WARNING
The bucket and key of the import are those of URL (s3:// for AWS, oss:// for ECS).`;

type Values = Record<string, string | boolean | string[] | undefined>;

const AWS_ONLY = ['usage-operation', 'encrypted', 'kms-key-id', 'manifest'];
const ECS_ONLY = ['image-name', 'os-type'];

/** The import the flags ask for, or undefined without --import. */
export function importOptions(values: Values, usage: string): ImportOptions | undefined {
  const raw = values.import as string | undefined;
  if (raw === undefined) {
    const stray = Object.keys(IMPORT_FLAGS).find((k) => k !== 'import' && values[k] !== undefined);
    if (stray) throw vmxError(CORE.USAGE, `--${stray} needs --import\n\n${usage}`);
    return undefined;
  }
  const target = oneOf(raw, IMPORT_TARGETS, 'import', usage);
  const foreign = (cloudOf(target) === 'aws' ? ECS_ONLY : AWS_ONLY).find((k) => values[k] !== undefined);
  if (foreign) throw vmxError(CORE.USAGE, `--${foreign} does not apply to --import ${target}\n\n${usage}`);
  if (target === 'ecs-image' && typeof values['image-name'] !== 'string') throw vmxError(CORE.USAGE, `--import ecs-image needs --image-name\n\n${usage}`);
  const s = (k: string) => values[k] as string | undefined;
  const bootMode = s('boot-mode');
  return {
    target,
    description: s('description'),
    licenseType: s('license-type'),
    usageOperation: s('usage-operation'),
    bootMode: bootMode === undefined ? undefined : oneOf(bootMode, bootModesFor(target), 'boot-mode', usage),
    platform: s('platform'),
    architecture: s('architecture'),
    encrypted: values.encrypted as boolean | undefined,
    kmsKeyId: s('kms-key-id'),
    roleName: s('role-name'),
    tags: parseTags(values['import-tag'] as string[] | undefined, usage, 'import-tag'),
    extraDisks: importDisks(target, values['import-disk'] as string[] | undefined, usage),
    imageName: s('image-name'),
    osType: s('os-type'),
    manifest: values.manifest === true ? true : undefined,
    checkRole: values['no-role-check'] === true ? false : undefined,
    dryRun: values['no-dry-run'] === true ? false : undefined,
    guestChecks: values['skip-guest-checks'] === true ? false : undefined,
  };
}

/** The import's API connection: --cloud-region (else the store's --region) and --cloud-endpoint. */
export function importConnections(values: Values, options: ImportOptions, usage: string): CloudConnections {
  const region = (values['cloud-region'] as string | undefined) ?? (values.region as string | undefined);
  const endpoint = values['cloud-endpoint'] as string | undefined;
  if (cloudOf(options.target) === 'aws') return { aws: awsConnection({ region, endpoint }, usage) };
  // An OSS region is written oss-cn-hangzhou; the ECS API names the same region cn-hangzhou.
  return { ecs: ecsConnection({ region: region?.replace(/^oss-/, ''), endpoint }, usage) };
}

/** AWS imports read S3 objects, ECS imports OSS objects. */
export function requireImportStore(url: string, options: ImportOptions, usage: string): void {
  const scheme = cloudOf(options.target) === 'aws' ? 's3' : 'oss';
  if (!url.toLowerCase().startsWith(`${scheme}://`)) throw vmxError(CORE.USAGE, `--import ${options.target} reads the object from ${scheme}://bucket/key, not ${url}\n\n${usage}`);
}

/** `--import-disk FORMAT=URL`, repeatable: the VM's other disks, already in the bucket. */
function importDisks(target: ImportTarget, raw: string[] | undefined, usage: string): ExtraDisk[] | undefined {
  if (!raw || raw.length === 0) return undefined;
  checkVolumeCount(target, raw.length, '--import-disk');
  return raw.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw vmxError(CORE.USAGE, `--import-disk takes FORMAT=URL (e.g. vmdk=s3://bucket/disk2.vmdk), not "${item}"\n\n${usage}`);
    return parseExtraDisk(target, item.slice(0, eq), item.slice(eq + 1), '--import-disk');
  });
}
