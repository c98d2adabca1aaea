/**
 * VHD spec, "Hard Disk Footer Format" / "Dynamic Disk Header Format", field Checksum: the one's
 * complement of the sum of every byte of the structure, the 4-byte checksum field excluded.
 */
export function vhdChecksum(structure: Buffer, checksumOffset: number): number {
  let sum = 0;
  for (let i = 0; i < structure.length; i++) {
    if (i >= checksumOffset && i < checksumOffset + 4) continue;
    sum = (sum + structure[i]!) >>> 0;
  }
  return ~sum >>> 0;
}
