import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { parseObjectUrl } from '../../sinks/object-url.js';
import type { ImportTarget } from '../preflight/finding.js';
import { cloudOf } from './import-options.js';

/** An object already in the bucket that the import takes as a further disk of the same VM. */
export interface ExtraDisk {
  bucket: string;
  key: string;
  /** The API's Format word. */
  format: string;
}

/**
 * Formats each API takes for a disk (EC2 ImportImage/ImportSnapshot DiskContainer.Format, ECS ImportImage
 * DiskDeviceMapping.Format), keyed by the lower-case word an operator types.
 */
const FORMATS: Record<'aws' | 'ecs', Record<string, string>> = {
  aws: { vmdk: 'VMDK', vhd: 'VHD', vhdx: 'VHDX', raw: 'RAW' },
  ecs: { vmdk: 'VMDK', vhd: 'VHD', raw: 'RAW', qcow2: 'qcow2' },
};

/** EC2 ImportImage: at most 21 volumes per VM (VM Import/Export user guide, "Limitations"). */
export const AWS_IMAGE_MAX_VOLUMES = 21;

/**
 * Parses `FORMAT=URL` (CLI `--import-disk`, API `import.extraDisks[].format/url`) into a disk the import
 * lists after the uploaded one: a multi-disk VM whose other disks were uploaded before. The URL must be
 * in the store the import reads (s3:// for AWS, oss:// for ECS); `where` names the flag or field.
 */
export function parseExtraDisk(target: ImportTarget, format: string, url: string, where: string): ExtraDisk {
  const cloud = cloudOf(target);
  const word = FORMATS[cloud][format.toLowerCase()];
  if (!word) throw vmxError(CORE.USAGE, `${where}: format "${format}" is not one ${target} takes for a disk (${Object.keys(FORMATS[cloud]).join(', ')})`);
  const scheme = cloud === 'aws' ? 's3' : 'oss';
  if (!url.toLowerCase().startsWith(`${scheme}://`)) throw vmxError(CORE.USAGE, `${where}: ${target} reads disks from ${scheme}://bucket/key, not ${url}`);
  const parsed = parseObjectUrl(url);
  if (!parsed.key) throw vmxError(CORE.USAGE, `${where}: ${url} names a bucket but no object`);
  return { bucket: parsed.bucket, key: parsed.key, format: word };
}

/** The volume limit, counted with the uploaded disk. */
export function checkVolumeCount(target: ImportTarget, extra: number, where: string): void {
  if (target === 'aws-image' && extra + 1 > AWS_IMAGE_MAX_VOLUMES) {
    throw vmxError(CORE.USAGE, `${where}: ImportImage takes at most ${AWS_IMAGE_MAX_VOLUMES} volumes, here ${extra + 1}; import the rest with --import aws-snapshot`);
  }
}
