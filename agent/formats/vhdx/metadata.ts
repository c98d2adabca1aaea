import { vmxError } from '../../core/errors.js';
import { VHDX } from './error-codes.js';
import * as G from './guid.js';
import type { ImageBytes } from './image-bytes.js';
import { KiB, MAX_VIRTUAL_SIZE, MiB } from './layout.js';
import type { Region } from './region-table.js';

/** The metadata items vmxfer understands, [MS-VHDX] §2.6.2. */
export interface VhdxMetadata {
  readonly blockSize: number;
  readonly leaveBlocksAllocated: boolean;
  readonly hasParent: boolean;
  readonly virtualSize: number;
  readonly logicalSectorSize: number;
  readonly physicalSectorSize: number;
  readonly page83Data?: string;
  /** Raw Parent Locator item (§2.6.2.6), parsed by parent-locator.ts. */
  readonly parentLocator?: Buffer;
  readonly parentLocatorOffset?: number;
  readonly warnings: string[];
}

interface ItemRef {
  readonly offset: number;
  readonly length: number;
}

const TABLE_SIZE = 64 * KiB;
const MAX_ENTRIES = 2047;
const KNOWN = new Set([G.FILE_PARAMETERS, G.VIRTUAL_DISK_SIZE, G.PAGE_83_DATA, G.LOGICAL_SECTOR_SIZE, G.PHYSICAL_SECTOR_SIZE, G.PARENT_LOCATOR]);

export async function readMetadata(image: ImageBytes, region: Region): Promise<VhdxMetadata> {
  const items = await readTable(image, region);
  const get = async (guid: string, name: string, size?: number): Promise<Buffer> => {
    const ref = items.get(guid);
    if (!ref || (size !== undefined && ref.length !== size)) {
      throw vmxError(VHDX.MISSING_METADATA, `the ${name} metadata item is ${ref ? `${ref.length} bytes, not ${size}` : 'missing'} (MS-VHDX §2.6.2)`, {
        file: image.path,
        offset: region.fileOffset,
      });
    }
    return image.read(region.fileOffset + ref.offset, ref.length, `VHDX ${name} metadata item`);
  };
  const at = (guid: string) => region.fileOffset + items.get(guid)!.offset;
  const params = await get(G.FILE_PARAMETERS, 'File Parameters', 8);
  const blockSize = checkBlockSize(params.readUInt32LE(0), image.path, at(G.FILE_PARAMETERS));
  const logicalSectorSize = checkSectorSize((await get(G.LOGICAL_SECTOR_SIZE, 'Logical Sector Size', 4)).readUInt32LE(0), 'logical', image.path, at(G.LOGICAL_SECTOR_SIZE));
  const physicalSectorSize = checkSectorSize((await get(G.PHYSICAL_SECTOR_SIZE, 'Physical Sector Size', 4)).readUInt32LE(0), 'physical', image.path, at(G.PHYSICAL_SECTOR_SIZE));
  const sizeRaw = (await get(G.VIRTUAL_DISK_SIZE, 'Virtual Disk Size', 8)).readBigUInt64LE(0);
  const virtualSize = checkVirtualSize(sizeRaw, logicalSectorSize, image.path, at(G.VIRTUAL_DISK_SIZE));
  const flags = params.readUInt32LE(4);
  const hasParent = (flags & 2) !== 0;
  const warnings: string[] = [];
  const page83Data = items.has(G.PAGE_83_DATA) ? G.readGuid(await get(G.PAGE_83_DATA, 'Page 83 Data', 16), 0) : undefined;
  if (!page83Data) warnings.push('the Page 83 Data metadata item (MS-VHDX §2.6.2.5) is missing');
  const parentLocator = hasParent ? await get(G.PARENT_LOCATOR, 'Parent Locator') : undefined;
  return {
    blockSize,
    leaveBlocksAllocated: (flags & 1) !== 0,
    hasParent,
    virtualSize,
    logicalSectorSize,
    physicalSectorSize,
    ...(page83Data ? { page83Data } : {}),
    ...(parentLocator ? { parentLocator, parentLocatorOffset: at(G.PARENT_LOCATOR) } : {}),
    warnings,
  };
}

/**
 * §2.6.1 metadata table: "metadata" signature, EntryCount <= 2047, 32-byte entries of ItemId, Offset
 * (>= 64 KiB from the region start unless Length is 0), Length (<= 1 MiB) and flags (IsRequired is bit 2).
 */
async function readTable(image: ImageBytes, region: Region): Promise<Map<string, ItemRef>> {
  const t = await image.read(region.fileOffset, TABLE_SIZE, 'VHDX metadata table');
  const fail = (rule: string, at = 0) => vmxError(VHDX.BAD_METADATA_TABLE, `metadata table ${rule} (MS-VHDX §2.6.1)`, { file: image.path, offset: region.fileOffset + at });
  if (t.toString('latin1', 0, 8) !== 'metadata') throw fail('signature is not "metadata"');
  const count = t.readUInt16LE(10);
  if (count > MAX_ENTRIES) throw fail(`EntryCount ${count} exceeds 2047`, 10);
  const items = new Map<string, ItemRef>();
  for (let i = 0; i < count; i++) {
    const at = 32 + i * 32;
    const guid = G.readGuid(t, at);
    const ref = { offset: t.readUInt32LE(at + 16), length: t.readUInt32LE(at + 20) };
    const required = (t.readUInt32LE(at + 24) & 4) !== 0;
    if (items.has(guid)) throw fail(`entry ${i} repeats item ${guid}`, at);
    if (ref.length > MiB) throw fail(`entry ${i} has Length ${ref.length} over 1 MiB`, at);
    if (ref.length > 0 && (ref.offset < TABLE_SIZE || ref.offset + ref.length > region.length)) {
      throw fail(`entry ${i} (offset ${ref.offset}, length ${ref.length}) lies outside [64 KiB, ${region.length}) of the region`, at);
    }
    if (!KNOWN.has(guid) && required) {
      throw vmxError(VHDX.UNKNOWN_REQUIRED_METADATA, `metadata entry ${i} is a required item ${guid} vmxfer does not know (MS-VHDX §2.6.1.2)`, { file: image.path, offset: region.fileOffset + at });
    }
    items.set(guid, ref);
  }
  return items;
}

/** §2.6.2.1: BlockSize MUST be a power of 2, at least 1 MB and at most 256 MB. */
function checkBlockSize(v: number, path: string, offset: number): number {
  if (v < MiB || v > 256 * MiB || (v & (v - 1)) !== 0) {
    throw vmxError(VHDX.BAD_BLOCK_SIZE, `BlockSize ${v} is not a power of two between 1 MiB and 256 MiB (MS-VHDX §2.6.2.1)`, { file: path, offset });
  }
  return v;
}

/** §2.6.2.3 / §2.6.2.4: sector sizes are 512 or 4096. */
function checkSectorSize(v: number, which: string, path: string, offset: number): number {
  if (v !== 512 && v !== 4096) throw vmxError(VHDX.BAD_SECTOR_SIZE, `${which} sector size ${v} is neither 512 nor 4096 (MS-VHDX §2.6.2.3-4)`, { file: path, offset });
  return v;
}

/** §2.6.2.2: VirtualDiskSize is a multiple of the logical sector size and at most 64 TiB. */
function checkVirtualSize(v: bigint, sector: number, path: string, offset: number): number {
  if (v === 0n || v > BigInt(MAX_VIRTUAL_SIZE) || v % BigInt(sector) !== 0n) {
    throw vmxError(VHDX.BAD_VIRTUAL_SIZE, `VirtualDiskSize ${v} is zero, above 64 TiB or not a multiple of the ${sector}-byte logical sector (MS-VHDX §2.6.2.2)`, { file: path, offset });
  }
  return Number(v);
}
