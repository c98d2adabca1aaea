import { finding, type Finding, type ImportTarget } from './finding.js';
import { GiB, TiB, type ImageFacts } from './image-facts.js';

/** AWS ImportImage: at most 21 volumes per image (VM Import/Export User Guide, "Limitations"). */
export const AWS_MAX_IMPORT_VOLUMES = 21;

export interface SizeRuleInput {
  target: ImportTarget;
  image: ImageFacts;
  /** An import manifest (VM Import/Export "import manifest") will be supplied for disks over 8 TiB. */
  manifest?: boolean | undefined;
  /** Disks already in the bucket that the same import names (--import-disk, import.extraDisks). */
  extraVolumes?: number | undefined;
  /** aws-snapshot with boot mode / platform: the snapshots become one AMI through ImportImage. */
  registersImage?: boolean | undefined;
}

/**
 * VM Import/Export User Guide, "Limitations": disk images must be less than 16 TiB, and images of
 * more than 8 TiB need a manifest file; ImportImage takes at most 21 volumes.
 */
export function sizeRules(input: SizeRuleInput): Finding[] {
  if (!input.target.startsWith('aws')) return [];
  const out: Finding[] = [];
  for (const d of input.image.disks) {
    if (d.virtualSize >= 16 * TiB) {
      out.push(finding('error', 'aws-disk-size', 'ClientError', `${d.path}: ${d.virtualSize} bytes is not less than 16 TiB`, 'Split the data across smaller disks; AWS imports disks under 16 TiB only.'));
    } else if (d.virtualSize > 8 * TiB && !input.manifest) {
      out.push(finding('error', 'aws-manifest', 'ClientError', `${d.path}: ${d.virtualSize} bytes is over 8 TiB and no import manifest was given`, 'Supply an import manifest (--manifest) for disks over 8 TiB.'));
    }
  }
  const volumes = input.image.disks.length + (input.extraVolumes ?? 0);
  if ((input.target === 'aws-image' || input.registersImage) && volumes > AWS_MAX_IMPORT_VOLUMES) {
    out.push(finding('error', 'aws-volume-count', 'InvalidParameterValue', `${volumes} volumes; ImportImage takes at most ${AWS_MAX_IMPORT_VOLUMES}`, `Import the first ${AWS_MAX_IMPORT_VOLUMES} with ImportImage and the rest with ImportSnapshot (--import aws-snapshot).`));
  }
  return out;
}

/** ECS ExportImage limits (Export a custom image): at most 4 data disks, each at most 500 GiB. */
export const ECS_EXPORT_MAX_DATA_DISKS = 4;
export const ECS_EXPORT_MAX_DATA_DISK_BYTES = 500 * GiB;

export interface EcsExportImageFacts {
  imageId: string;
  /** Data disks of the image (DescribeImages DiskDeviceMappings of Type "data"), sizes in bytes. */
  dataDiskSizes: number[];
}

export function ecsExportRules(img: EcsExportImageFacts): Finding[] {
  const out: Finding[] = [];
  if (img.dataDiskSizes.length > ECS_EXPORT_MAX_DATA_DISKS) {
    out.push(finding('error', 'ecs-export-disks', 'InvalidParameter', `${img.imageId} has ${img.dataDiskSizes.length} data disks; ExportImage exports at most ${ECS_EXPORT_MAX_DATA_DISKS}`, 'Create an image with at most 4 data disks (or export the snapshots separately).'));
  }
  img.dataDiskSizes.forEach((size, i) => {
    if (size > ECS_EXPORT_MAX_DATA_DISK_BYTES) {
      out.push(finding('error', 'ecs-export-disk-size', 'InvalidParameter', `${img.imageId} data disk ${i + 1} is ${Math.round(size / GiB)} GiB; ExportImage takes data disks of at most 500 GiB`, 'Shrink the data disk below 500 GiB or export its snapshot another way.'));
    }
  });
  return out;
}
