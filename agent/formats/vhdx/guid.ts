/**
 * GUIDs as [MS-VHDX] §1.3 / [MS-DTYP] GUID store them: Data1 (u32 LE), Data2 (u16 LE), Data3 (u16 LE),
 * Data4 (8 bytes in order). We compare them in their canonical upper-case text form.
 */
export function readGuid(buf: Buffer, at: number): string {
  const d1 = buf.readUInt32LE(at).toString(16).padStart(8, '0');
  const d2 = buf.readUInt16LE(at + 4).toString(16).padStart(4, '0');
  const d3 = buf.readUInt16LE(at + 6).toString(16).padStart(4, '0');
  const d4 = buf.subarray(at + 8, at + 10).toString('hex');
  const d5 = buf.subarray(at + 10, at + 16).toString('hex');
  return `${d1}-${d2}-${d3}-${d4}-${d5}`.toUpperCase();
}

export function isZeroGuid(guid: string): boolean {
  return /^[0-]+$/.test(guid);
}

/** Region GUIDs, [MS-VHDX] §2.2.3.2. */
export const BAT_REGION = '2DC27766-F623-4200-9D64-115E9BFD4A08';
export const METADATA_REGION = '8B7CA206-4790-4B9A-B8FE-575F050F886E';

/** Known metadata item GUIDs, [MS-VHDX] §2.6.2. */
export const FILE_PARAMETERS = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B';
export const VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8';
export const PAGE_83_DATA = 'BECA12AB-B2E6-4523-93EF-C309E000C746';
export const LOGICAL_SECTOR_SIZE = '8141BF1D-A96F-4709-BA47-F233A8FAAB5F';
export const PHYSICAL_SECTOR_SIZE = 'CDA348C7-445D-4471-9CC9-E9885251C556';
export const PARENT_LOCATOR = 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C';

/** Parent locator type of a VHDX parent, [MS-VHDX] §2.6.2.6. */
export const VHDX_PARENT_LOCATOR_TYPE = 'B04AEFB7-D19E-4A81-B789-25B8E9445913';
