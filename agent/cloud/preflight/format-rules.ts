import { finding, type Finding, type ImportTarget } from './finding.js';
import type { DiskFacts, ImageFacts } from './image-facts.js';

/**
 * Formats each import accepts, from the documentation:
 * - AWS ImportImage (VM Import/Export User Guide, "Image formats"): OVA, stream-optimized VMDK, VHD/VHDX, raw;
 *   no differencing VHD, no chunked-disk OVA (ImageDiskContainer.Format: OVA | VHD | VHDX | VMDK | RAW).
 * - AWS ImportSnapshot (SnapshotDiskContainer.Format): VHD | VMDK | RAW.
 * - Alibaba ECS ImportImage (DiskDeviceMapping.Format): RAW | VHD | qcow2 | VMDK.
 */
const ACCEPTED: Record<ImportTarget, readonly string[]> = {
  'aws-image': ['raw', 'vmdk', 'vhd', 'vhdx'],
  'aws-snapshot': ['raw', 'vmdk', 'vhd'],
  'ecs-image': ['raw', 'vhd', 'qcow2', 'vmdk'],
};

/** What vmxfer converts an unaccepted disk to for each target (a format the target takes and vmxfer writes). */
const CONVERT_TO: Record<ImportTarget, string> = { 'aws-image': 'vmdk', 'aws-snapshot': 'vmdk', 'ecs-image': 'qcow2' };

const CODE: Record<ImportTarget, string> = {
  'aws-image': 'InvalidParameterValue',
  'aws-snapshot': 'InvalidParameterValue',
  'ecs-image': 'InvalidParameter.Format',
};

export interface FormatRuleInput {
  target: ImportTarget;
  image: ImageFacts;
  /** False when the user asked for the bytes unchanged (--as original): nothing can be repaired. */
  convertAllowed: boolean;
}

export function acceptedFormats(target: ImportTarget): readonly string[] {
  return ACCEPTED[target];
}

/** Findings for the image's formats: accepted, repaired on the way, or refused. */
export function formatRules(input: FormatRuleInput): Finding[] {
  const out: Finding[] = [];
  if (input.image.container === 'ova') out.push(...ovaRules(input));
  else for (const d of input.image.disks) out.push(...diskFormatRules(input, d));
  return out;
}

function ovaRules(input: FormatRuleInput): Finding[] {
  if (input.target !== 'aws-image') {
    return input.image.disks.flatMap((d) => diskFormatRules(input, d));
  }
  if (!input.image.ovaChunked) return [];
  // VM Import/Export User Guide, "Limitations": OVAs with chunked (split) disk files are not supported.
  return [refuseOrRepair(input, 'ova-chunked', 'ClientError', 'the OVA stores its disks in chunks, which AWS VM Import refuses', 'reassembled into whole stream-optimized VMDK disks during the upload', 'vmdk')];
}

function diskFormatRules(input: FormatRuleInput, d: DiskFacts): Finding[] {
  const { target } = input;
  const name = `${d.path} (${d.format}${d.subformat ? ` ${d.subformat}` : ''})`;
  if (!ACCEPTED[target].includes(d.format)) {
    return [refuseOrRepair(input, 'format', CODE[target], `${name}: ${target} accepts ${ACCEPTED[target].join(', ')}, not ${d.format}`, `converted to ${CONVERT_TO[target]} during the upload`, CONVERT_TO[target])];
  }
  if (d.format === 'vmdk' && target === 'aws-image' && d.subformat !== 'streamOptimized') {
    return [refuseOrRepair(input, 'vmdk-stream', 'ClientError', `${name}: AWS ImportImage takes only stream-optimized VMDK`, 'converted to stream-optimized VMDK during the upload', 'vmdk')];
  }
  if (d.format === 'vhd' && d.subformat === 'differencing' && target.startsWith('aws')) {
    return [refuseOrRepair(input, 'vhd-differencing', 'ClientError', `${name}: AWS refuses differencing VHDs`, 'merged with its parents into one stream-optimized VMDK during the upload', 'vmdk')];
  }
  if (d.format === 'vhd' && d.subformat !== 'fixed' && target === 'ecs-image') {
    // Alibaba's VHD import reads the disk as a fixed-size (Azure-style) image.
    return [refuseOrRepair(input, 'vhd-fixed', 'InvalidParameter.Format', `${name}: a ${d.subformat ?? 'non-fixed'} VHD where a fixed VHD is expected`, 'converted to a fixed VHD during the upload', 'vhd-fixed')];
  }
  return [];
}

function refuseOrRepair(input: FormatRuleInput, rule: string, code: string, message: string, repair: string, convertTo: string): Finding {
  if (input.convertAllowed) return finding('repair', rule, code, message, `vmxfer repairs this: ${repair}.`, convertTo);
  return finding('error', rule, code, message, `Upload with --format ${convertTo} instead of the original bytes so vmxfer can convert it.`);
}
