import { finding, type Finding } from '../preflight/finding.js';
import type { ImageFacts } from '../preflight/image-facts.js';
import { localImportPreflight } from '../preflight/local-preflight.js';
import { cloudOf, type ImportOptions } from './import-options.js';
import { outputFacts } from './output-facts.js';

export interface UploadImportPlan {
  /** The `--as` target the upload uses: the one asked for, or the repair the preflight chose. */
  as: string;
  /** Facts of the object the upload will store. */
  facts: ImageFacts;
  findings: Finding[];
}

/**
 * The local import preflight for an upload, run before its first byte. Without an explicit `as` the
 * repairs the rules name are applied (the first repair's output format); with one, the stored
 * object is judged as that writer produces it and nothing more can be repaired.
 */
export function planUploadImport(options: ImportOptions, source: ImageFacts, as: string | undefined): UploadImportPlan {
  const repairs = as === undefined ? localImportPreflight(request(options, source, true)).filter((f) => f.severity === 'repair') : [];
  const chosen = as ?? repairs[0]?.convertTo ?? 'original';
  const facts = outputFacts(source, chosen);
  const findings = [...repairs, ...localImportPreflight(request(options, facts, false)), ...containerRules(options, facts), ...ovaDiskRules(options, source, chosen)];
  return { as: chosen, facts, findings };
}

function request(o: ImportOptions, image: ImageFacts, convertAllowed: boolean) {
  return {
    target: o.target,
    image,
    convertAllowed,
    manifest: o.manifest,
    extraVolumes: o.extraDisks?.length,
    aws: { encrypted: o.encrypted, kmsKeyId: o.kmsKeyId, licenseType: o.licenseType, usageOperation: o.usageOperation, tags: o.tags, roleName: o.roleName, bootMode: o.bootMode, platform: o.platform, architecture: o.architecture },
    ecs: { imageName: o.imageName, description: o.description, tags: o.tags, roleName: o.roleName },
  };
}

/** ImportSnapshot and ECS ImportImage read one disk per object, never an OVA package (their Format lists). */
function containerRules(o: ImportOptions, facts: ImageFacts): Finding[] {
  if (facts.container !== 'ova' || o.target === 'aws-image') return [];
  const code = cloudOf(o.target) === 'ecs' ? 'InvalidParameter.Format' : 'InvalidParameterValue';
  return [finding('error', 'ova-container', code, `${o.target} takes a disk image, not an OVA package`, 'Upload with --as vmdk (AWS) or --as qcow2 (ECS) so vmxfer extracts the disk.')];
}

/**
 * An OVA converted on the way is stored as one disk (the writers take one disk): the VM's other disks
 * must reach the import another way — uploaded on their own and named with --import-disk
 * (import.extraDisks) — or the OVA kept whole (aws-image reads every disk of an OVA).
 */
function ovaDiskRules(o: ImportOptions, source: ImageFacts, as: string): Finding[] {
  const disks = source.container === 'ova' ? source.disks.length : 1;
  const named = o.extraDisks?.length ?? 0;
  if (as === 'original' || disks <= 1 || named >= disks - 1) return [];
  const keep = o.target === 'aws-image' && !source.ovaChunked ? ' or keep the OVA whole (--as original)' : '';
  return [finding('error', 'ova-disks', 'OVA_MULTI_DISK', `the OVA holds ${disks} disks and the upload stores one of them converted to ${as}; the other ${disks - 1} would be missing from the ${o.target} import`, `Upload each other disk on its own (--disk N) and name it with --import-disk (API import.extraDisks)${keep}.`)];
}
