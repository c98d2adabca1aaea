import type { DiskInfo } from '../../disk/disk-source.js';
import type { DiskFacts, ImageFacts } from './image-facts.js';

/**
 * ImageFacts from what `inspect` reports. An OVA reader reports format "ova" and lists its disks in
 * details.disks (each with format, subformat, virtualSize) and details.chunked when a disk is split.
 */
export function imageFactsFromInfo(path: string, info: DiskInfo): ImageFacts {
  if (info.format !== 'ova') return { disks: [diskFacts(path, info)] };
  const listed = Array.isArray(info.details?.disks) ? (info.details!.disks as Array<Partial<DiskFacts>>) : [];
  const disks = listed.length
    ? listed.map((d, i) => ({ path: d.path ?? `${path}#disk${i + 1}`, format: d.format ?? 'vmdk', subformat: d.subformat, virtualSize: Number(d.virtualSize ?? 0) }))
    : [diskFacts(path, info)];
  return { container: 'ova', ovaChunked: info.details?.chunked === true, disks };
}

function diskFacts(path: string, info: DiskInfo): DiskFacts {
  return { path, format: info.format, subformat: info.subformat, virtualSize: info.virtualSize };
}
