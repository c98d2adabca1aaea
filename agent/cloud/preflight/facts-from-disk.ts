import type { DiskInfo } from '../../disk/disk-source.js';
import type { OvaDiskSummary } from '../../formats/ova/ova-summary.js';
import type { DiskFacts, ImageFacts } from './image-facts.js';

/**
 * ImageFacts from what `inspect` reports. An OVA reader reports format "ova" and lists its disks in
 * details.disks as OVF DiskSection entries (ova-summary.ts): capacity, the format URL, the file and
 * its chunk size when the disk is split across members.
 */
export function imageFactsFromInfo(path: string, info: DiskInfo): ImageFacts {
  if (info.format !== 'ova') return { disks: [diskFacts(path, info)] };
  const listed = Array.isArray(info.details?.disks) ? (info.details!.disks as OvaDiskSummary[]) : [];
  if (listed.length === 0) return { container: 'ova', ovaChunked: false, disks: [diskFacts(path, info)] };
  return {
    container: 'ova',
    ovaChunked: listed.some((d) => d.chunkSize !== undefined),
    disks: listed.map((d) => ({ path: `${path}#${d.file ?? `disk${d.index}`}`, ...formatOfOvfUrl(d.format), virtualSize: d.capacityBytes })),
  };
}

/**
 * The disk format an OVF DiskSection's ovf:format URL names (DSP0243 §9.1, "Disk format"): VMware's
 * `…/vmdk.html#streamOptimized` (or `#sparse`, `#compressed`), Microsoft's VHD, raw, qcow2.
 */
export function formatOfOvfUrl(url: string | undefined): Pick<DiskFacts, 'format' | 'subformat'> {
  const u = (url ?? '').toLowerCase();
  if (u.includes('vmdk')) return { format: 'vmdk', subformat: u.includes('#streamoptimized') ? 'streamOptimized' : u.includes('#sparse') ? 'monolithicSparse' : undefined };
  if (u.includes('vhdx')) return { format: 'vhdx', subformat: undefined };
  if (u.includes('vhd')) return { format: 'vhd', subformat: undefined };
  if (u.includes('qcow')) return { format: 'qcow2', subformat: undefined };
  if (u.includes('raw')) return { format: 'raw', subformat: undefined };
  return { format: 'vmdk', subformat: undefined };
}

function diskFacts(path: string, info: DiskInfo): DiskFacts {
  return { path, format: info.format, subformat: info.subformat, virtualSize: info.virtualSize };
}
