/**
 * The embedded descriptor of a stream-optimized extent (VMDK 5.0 §"The Descriptor File": header,
 * extent description, disk database). It lives in sectors [1, 1 + DESCRIPTOR_SECTORS) of the file;
 * qemu reads the CID of a sparse file's embedded descriptor at byte 512, so it must start there.
 */

export const ADAPTER_TYPES = ['ide', 'buslogic', 'lsilogic', 'legacyESX'] as const;
export type AdapterType = (typeof ADAPTER_TYPES)[number];

/** Room reserved for the descriptor (as qemu and VMware do), so tools can edit it in place. */
export const DESCRIPTOR_OFFSET_SECTORS = 1;
export const DESCRIPTOR_SECTORS = 20;
/** Extent names are cut to this many UTF-8 bytes so the descriptor always fits its sectors. */
export const MAX_EXTENT_NAME_BYTES = 255;

export interface DescriptorFields {
  capacitySectors: number;
  /** Content ID, a random uint32 other than 0xffffffff (which parentCID uses for "no parent"). */
  cid: number;
  extentName: string;
  adapterType: AdapterType;
  virtualHWVersion: number;
}

export interface Geometry {
  cylinders: number;
  heads: number;
  sectors: number;
}

/**
 * The CHS geometry VMware records in ddb.geometry.*: 63 sectors per track; 16 heads for IDE
 * (cylinders capped at 16383, the ATA limit) and 255 heads for SCSI adapters.
 */
export function diskGeometry(capacitySectors: number, adapter: AdapterType): Geometry {
  const heads = adapter === 'ide' ? 16 : 255;
  const sectors = 63;
  let cylinders = Math.max(1, Math.floor(capacitySectors / (heads * sectors)));
  if (adapter === 'ide') cylinders = Math.min(cylinders, 16383);
  return { cylinders, heads, sectors };
}

/**
 * The file name for the extent line: quotes, backslashes and control characters would end the
 * quoted name early or break the line, so they become '_'; the name is cut to MAX_EXTENT_NAME_BYTES.
 */
export function extentNameFor(outputName: string | undefined): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach the descriptor
  const cleaned = (outputName ?? 'disk.vmdk').replace(/["\\\u0000-\u001f\u007f]/g, '_') || 'disk.vmdk';
  let name = cleaned;
  while (Buffer.byteLength(name, 'utf8') > MAX_EXTENT_NAME_BYTES) name = Array.from(name).slice(0, -1).join('');
  return name;
}

export function buildDescriptor(f: DescriptorFields): string {
  const g = diskGeometry(f.capacitySectors, f.adapterType);
  return [
    '# Disk DescriptorFile',
    'version=1',
    'encoding="UTF-8"',
    `CID=${hex32(f.cid)}`,
    'parentCID=ffffffff',
    'createType="streamOptimized"',
    '',
    '# Extent description',
    `RW ${f.capacitySectors} SPARSE "${f.extentName}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    `ddb.adapterType = "${f.adapterType}"`,
    `ddb.geometry.cylinders = "${g.cylinders}"`,
    `ddb.geometry.heads = "${g.heads}"`,
    `ddb.geometry.sectors = "${g.sectors}"`,
    `ddb.virtualHWVersion = "${f.virtualHWVersion}"`,
    '',
  ].join('\n');
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
