import type { DiskFacts, ImageFacts } from '../preflight/image-facts.js';

/** What each `--as` target writes (agent/formats/*-writer.ts), as the preflight's rules read a disk. */
const WRITTEN: Record<string, Pick<DiskFacts, 'format' | 'subformat'>> = {
  vmdk: { format: 'vmdk', subformat: 'streamOptimized' },
  vhd: { format: 'vhd', subformat: 'dynamic' },
  'vhd-fixed': { format: 'vhd', subformat: 'fixed' },
  qcow2: { format: 'qcow2' },
  raw: { format: 'raw' },
};

/**
 * The facts of the object an upload stores: the source's own for `original`, otherwise each disk as
 * the chosen writer produces it (an OVA source converted to one format becomes its first disk).
 */
export function outputFacts(source: ImageFacts, as: string): ImageFacts {
  if (as === 'original') return source;
  const written = WRITTEN[as];
  const first = source.disks[0];
  if (!written || !first) return source;
  return { disks: [{ path: first.path, virtualSize: first.virtualSize, ...written }] };
}

/**
 * The Format the import API names for the stored object: ImageDiskContainer.Format (OVA | VHD | VHDX |
 * VMDK | RAW), SnapshotDiskContainer.Format, or ECS DiskDeviceMapping.Format (RAW | VHD | qcow2 | VMDK).
 */
export function objectFormat(facts: ImageFacts, cloud: 'aws' | 'ecs'): string {
  if (facts.container === 'ova') return 'OVA';
  const format = facts.disks[0]?.format ?? 'raw';
  if (cloud === 'ecs' && format === 'qcow2') return 'qcow2';
  return format.toUpperCase();
}
