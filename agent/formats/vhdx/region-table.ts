import { crc32c } from '../../hashing/crc32c.js';
import { vmxError } from '../../core/errors.js';
import { VHDX } from './error-codes.js';
import { BAT_REGION, METADATA_REGION, readGuid } from './guid.js';
import type { ImageBytes } from './image-bytes.js';
import { HEADER_SECTION_SIZE, MiB, REGION_TABLE_OFFSETS, REGION_TABLE_SIZE } from './layout.js';

export interface Region {
  readonly fileOffset: number;
  readonly length: number;
}

export interface Regions {
  readonly bat: Region;
  readonly metadata: Region;
  /** Which copy was used (0 primary at 192 KiB, 1 backup at 256 KiB). */
  readonly copyUsed: number;
}

const MAX_REGION_ENTRIES = 2047;
const ENTRY_SIZE = 32;

/**
 * [MS-VHDX] §2.2.3: two copies of a 64 KiB region table; a copy is valid when its signature is "regi",
 * its CRC-32C (over 64 KiB with the checksum zeroed) matches and EntryCount <= 2047. The first valid
 * copy is used. Entries (§2.2.3.2): GUID, FileOffset (multiple of 1 MiB, past the header section),
 * Length (multiple of 1 MiB), Required bit. BAT and metadata regions are required; regions must not
 * overlap and must lie inside the file; unknown required regions cannot be opened.
 */
export async function readRegions(image: ImageBytes): Promise<Regions> {
  for (const [copy, offset] of REGION_TABLE_OFFSETS.entries()) {
    const table = await image.read(offset, REGION_TABLE_SIZE, 'VHDX region table');
    if (isValidTable(table)) return { ...parseEntries(table, offset, image), copyUsed: copy };
  }
  throw vmxError(VHDX.BAD_REGION_TABLE, `neither region table copy (at 196608 and 262144) has signature "regi", a valid CRC-32C and at most 2047 entries (MS-VHDX §2.2.3)`, {
    file: image.path,
    offset: REGION_TABLE_OFFSETS[0],
  });
}

function isValidTable(t: Buffer): boolean {
  if (t.toString('latin1', 0, 4) !== 'regi') return false;
  const stored = t.readUInt32LE(4);
  const copy = Buffer.from(t);
  copy.writeUInt32LE(0, 4);
  return crc32c(copy) === stored && t.readUInt32LE(8) <= MAX_REGION_ENTRIES;
}

function parseEntries(t: Buffer, tableOffset: number, image: ImageBytes): { bat: Region; metadata: Region } {
  const count = t.readUInt32LE(8);
  const found = new Map<string, Region>();
  for (let i = 0; i < count; i++) {
    const at = 16 + i * ENTRY_SIZE;
    const fail = (rule: string) => vmxError(VHDX.BAD_REGION_ENTRY, `region table entry ${i} ${rule} (MS-VHDX §2.2.3.2)`, { file: image.path, offset: tableOffset + at });
    const guid = readGuid(t, at);
    const region = { fileOffset: Number(t.readBigUInt64LE(at + 16)), length: t.readUInt32LE(at + 24) };
    const required = (t.readUInt32LE(at + 28) & 1) === 1;
    if (found.has(guid)) throw fail(`repeats region ${guid}`);
    if (guid !== BAT_REGION && guid !== METADATA_REGION) {
      if (required) throw vmxError(VHDX.UNKNOWN_REQUIRED_REGION, `region table entry ${i} is a required region ${guid} vmxfer does not know (MS-VHDX §2.2.3.2)`, { file: image.path, offset: tableOffset + at });
      continue;
    }
    if (region.fileOffset % MiB !== 0 || region.fileOffset < HEADER_SECTION_SIZE) throw fail(`has FileOffset ${region.fileOffset}, not a multiple of 1 MiB past the header section`);
    if (region.length === 0 || region.length % MiB !== 0) throw fail(`has Length ${region.length}, not a non-zero multiple of 1 MiB`);
    if (region.fileOffset + region.length > image.size) throw fail(`(offset ${region.fileOffset}, length ${region.length}) extends past the end of the file (size ${image.size})`);
    found.set(guid, region);
  }
  const bat = found.get(BAT_REGION);
  const metadata = found.get(METADATA_REGION);
  const fail = (rule: string) => vmxError(VHDX.BAD_REGION_ENTRY, `region table ${rule} (MS-VHDX §2.2.3.2)`, { file: image.path, offset: tableOffset });
  if (!bat || !metadata) throw fail(`lacks the ${bat ? 'metadata' : 'BAT'} region`);
  if (bat.fileOffset < metadata.fileOffset + metadata.length && metadata.fileOffset < bat.fileOffset + bat.length) throw fail('has overlapping BAT and metadata regions');
  return { bat, metadata };
}
