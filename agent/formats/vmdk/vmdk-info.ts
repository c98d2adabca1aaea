import type { DiskInfo } from '../../disk/disk-source.js';
import type { VmdkComponent } from './component.js';
import type { VmdkDescriptor } from './descriptor.js';
import { SECTOR, type SparseHeader } from './sparse-header.js';

/** What inspect shows about one VMDK (without its parents). */
export function vmdkInfo(args: {
  subformat: string;
  components: readonly VmdkComponent[];
  files: string[];
  header?: SparseHeader | undefined;
  descriptor?: VmdkDescriptor | undefined;
}): DiskInfo {
  const { header, descriptor: d } = args;
  const details: Record<string, unknown> = {};
  if (header) {
    details['headerVersion'] = header.version;
    details['grainSize'] = header.grainSectors * SECTOR;
    details['compressed'] = header.compressed;
  }
  if (d) {
    details['cid'] = hex8(d.cid);
    if (d.parentFileNameHint !== undefined) details['parentFileNameHint'] = d.parentFileNameHint;
    setIf(details, 'adapterType', d.ddb['adapterType']);
    setIf(details, 'hwVersion', d.ddb['virtualHWVersion']);
    const [c, h, s] = [d.ddb['geometry.cylinders'], d.ddb['geometry.heads'], d.ddb['geometry.sectors']];
    if (c && h && s) details['geometry'] = `${c}/${h}/${s}`;
  }
  return {
    format: 'vmdk',
    subformat: args.subformat,
    virtualSize: args.components.reduce((n, c) => n + c.size, 0),
    allocatedBytes: args.components.reduce((n, c) => n + c.allocatedBytes, 0),
    files: args.files,
    warnings: [],
    details,
  };
}

export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function setIf(o: Record<string, unknown>, key: string, v: string | undefined): void {
  if (v !== undefined) o[key] = v;
}
