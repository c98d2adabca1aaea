import { IMPORT_TARGETS, type ImportTarget } from '../cloud/preflight/finding.js';
import { bootModesFor, cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import { bad, obj, str, stringMap } from './body-fields.js';
import { isVmxferError } from '../core/errors.js';
import { parseDistribute } from './distribute-body.js';
import { isEbsUrl } from '../ebs/ebs-url.js';
import { AWS_IMAGE_MAX_VOLUMES, parseExtraDisk, type ExtraDisk } from '../cloud/upload-import/extra-disks.js';

const COMMON = ['target', 'description', 'licenseType', 'bootMode', 'platform', 'architecture', 'roleName', 'tags', 'extraDisks', 'checkRole', 'dryRun', 'guestChecks', 'copy', 'share'];
const AWS_ONLY = ['usageOperation', 'encrypted', 'kmsKeyId', 'manifest'];
const ECS_ONLY = ['imageName', 'osType', 'region'];

/**
 * docs/api.md "import": the cloud import run after an upload job. AWS imports read s3:// objects,
 * ECS imports oss:// objects; each field is checked for shape here, the cloud's own parameter rules
 * (names, tags, encryption) run when the job is validated, before its first byte.
 */
export function parseImportBody(raw: unknown, destination: string): ImportOptions {
  const o = obj(raw, 'import');
  const target = str(o.target, 'import.target');
  if (!(IMPORT_TARGETS as readonly string[]).includes(target)) throw bad('import.target', `must be one of ${IMPORT_TARGETS.join(', ')}`);
  const t = target as ImportTarget;
  const allowed = [...COMMON, ...(cloudOf(t) === 'aws' ? AWS_ONLY : ECS_ONLY)];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(`import.${k}`, `is not a field of an ${t} import`);
  const scheme = cloudOf(t) === 'aws' ? 's3' : 'oss';
  if (isEbsUrl(destination)) {
    if (t !== 'aws-image') throw bad('import.target', `an ebs:// upload is already a snapshot: only aws-image (an AMI of it) applies, not ${t}`);
  } else if (!destination.toLowerCase().startsWith(`${scheme}://`)) throw bad('import.target', `${t} imports an ${scheme}:// object; the destination is ${destination}`);
  const s = (k: string) => (o[k] === undefined ? undefined : str(o[k], `import.${k}`));
  if (o.licenseType !== undefined && o.usageOperation !== undefined) throw bad('import.usageOperation', 'cannot be given with import.licenseType (InvalidParameterCombination)');
  for (const k of ['encrypted', 'checkRole', 'dryRun', 'manifest', 'guestChecks']) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw bad(`import.${k}`, 'must be true or false');
  if (t === 'ecs-image' && o.imageName === undefined) throw bad('import.imageName', 'is required for an ecs-image import');
  const bootMode = s('bootMode');
  if (bootMode !== undefined && !bootModesFor(t).includes(bootMode)) throw bad('import.bootMode', `must be one of ${bootModesFor(t).join(', ')}`);
  const platform = s('platform');
  return {
    target: t,
    description: s('description'),
    licenseType: s('licenseType'),
    usageOperation: s('usageOperation'),
    bootMode,
    platform,
    architecture: s('architecture'),
    encrypted: o.encrypted as boolean | undefined,
    kmsKeyId: s('kmsKeyId'),
    roleName: s('roleName'),
    tags: o.tags === undefined ? undefined : stringMap(o.tags, 'import.tags'),
    extraDisks: o.extraDisks === undefined ? undefined : extraDisks(t, o.extraDisks),
    imageName: s('imageName'),
    osType: s('osType'),
    region: region(s('region')),
    checkRole: o.checkRole as boolean | undefined,
    dryRun: o.dryRun as boolean | undefined,
    guestChecks: o.guestChecks as boolean | undefined,
    manifest: o.manifest as boolean | undefined,
    ...parseDistribute(o, { target: t, bootMode, platform }),
  };
}

/** `import.region`: an ECS region id (cn-hangzhou, ap-southeast-1, ...), never an OSS one (oss-cn-hangzhou). */
function region(raw: string | undefined): string | undefined {
  if (raw !== undefined && !/^[a-z]{2,}(-[a-z0-9]+)+$/.test(raw)) throw bad('import.region', 'must be an ECS region id such as cn-hangzhou');
  if (raw?.startsWith('oss-')) throw bad('import.region', `names an OSS region; the ECS region is ${raw.slice(4)}`);
  return raw;
}

const MAX_EXTRA_DISKS = 64;

/** `import.extraDisks`: [{ format, url }], the VM's other disks already in the bucket (docs/api.md). */
function extraDisks(target: ImportTarget, raw: unknown): ExtraDisk[] {
  if (!Array.isArray(raw) || raw.length === 0) throw bad('import.extraDisks', 'must be a non-empty array of { format, url }');
  if (target === 'aws-image' && raw.length + 1 > AWS_IMAGE_MAX_VOLUMES) {
    throw bad('import.extraDisks', `may list at most ${AWS_IMAGE_MAX_VOLUMES - 1} disks for aws-image (ImportImage takes ${AWS_IMAGE_MAX_VOLUMES} volumes with the uploaded one); import the rest with target aws-snapshot`);
  }
  // A bound on the request, not a cloud rule: aws-snapshot starts one task per disk, ECS maps each disk.
  if (raw.length > MAX_EXTRA_DISKS) throw bad('import.extraDisks', `may list at most ${MAX_EXTRA_DISKS} disks`);
  return raw.map((item, i) => {
    const field = `import.extraDisks[${i}]`;
    const d = obj(item, field);
    const format = str(d.format, `${field}.format`);
    const url = str(d.url, `${field}.url`);
    try {
      return parseExtraDisk(target, format, url, field);
    } catch (err) {
      if (isVmxferError(err)) throw bad(field, err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message);
      throw err;
    }
  });
}
