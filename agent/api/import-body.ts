import { IMPORT_TARGETS, type ImportTarget } from '../cloud/preflight/finding.js';
import { bootModesFor, cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import { bad, obj, str, stringMap } from './body-fields.js';

const COMMON = ['target', 'description', 'licenseType', 'bootMode', 'platform', 'architecture', 'roleName', 'tags'];
const AWS_ONLY = ['usageOperation', 'encrypted', 'kmsKeyId'];
const ECS_ONLY = ['imageName', 'osType'];

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
  if (!destination.toLowerCase().startsWith(`${scheme}://`)) throw bad('import.target', `${t} imports an ${scheme}:// object; the destination is ${destination}`);
  const s = (k: string) => (o[k] === undefined ? undefined : str(o[k], `import.${k}`));
  if (o.licenseType !== undefined && o.usageOperation !== undefined) throw bad('import.usageOperation', 'cannot be given with import.licenseType (InvalidParameterCombination)');
  if (o.encrypted !== undefined && typeof o.encrypted !== 'boolean') throw bad('import.encrypted', 'must be true or false');
  if (t === 'ecs-image' && o.imageName === undefined) throw bad('import.imageName', 'is required for an ecs-image import');
  const bootMode = s('bootMode');
  if (bootMode !== undefined && !bootModesFor(t).includes(bootMode)) throw bad('import.bootMode', `must be one of ${bootModesFor(t).join(', ')}`);
  return {
    target: t,
    description: s('description'),
    licenseType: s('licenseType'),
    usageOperation: s('usageOperation'),
    bootMode,
    platform: s('platform'),
    architecture: s('architecture'),
    encrypted: o.encrypted as boolean | undefined,
    kmsKeyId: s('kmsKeyId'),
    roleName: s('roleName'),
    tags: o.tags === undefined ? undefined : stringMap(o.tags, 'import.tags'),
    imageName: s('imageName'),
    osType: s('osType'),
  };
}
