/**
 * An order-independent fingerprint of a set of (grain index, grain sector) pairs, so a stream read
 * once can check the grains it met against its grain tables without keeping either (VMDK 5.0
 * §"Grain Directories and Grain Tables": GTE j of table i maps grain i·numGTEsPerGT + j to a sector).
 * Each pair adds a(sector) + b(sector)·index in two 32-bit lanes; the sum is linear in the index, so
 * a grain table met before the directory says its number is summarised without it and placed later.
 */
export class GrainLedger {
  grains = 0;
  private lo = 0;
  private hi = 0;

  add(grainIndex: number, sector: number): void {
    this.grains++;
    this.lo = (this.lo + mix(sector, 0x3c6ef372) + Math.imul(mix(sector, 0x1b873593) | 1, grainIndex)) | 0;
    this.hi = (this.hi + mix(sector, 0x510e527f) + Math.imul(mix(sector, 0x9b05688c) | 1, grainIndex)) | 0;
  }

  addTable(table: TableSummary, tableIndex: number, entriesPerTable: number): void {
    const base = Math.imul(tableIndex, entriesPerTable);
    this.grains += table.grains;
    this.lo = (this.lo + table.loFixed + Math.imul(table.loSlope, base)) | 0;
    this.hi = (this.hi + table.hiFixed + Math.imul(table.hiSlope, base)) | 0;
  }

  equals(other: GrainLedger): boolean {
    return this.grains === other.grains && this.lo === other.lo && this.hi === other.hi;
  }
}

/** One grain table's entries, summarised before its table number is known. */
export class TableSummary {
  grains = 0;
  loFixed = 0;
  loSlope = 0;
  hiFixed = 0;
  hiSlope = 0;
  /** Set when the grain directory has placed it; a table placed twice or never is a mismatch. */
  placed = false;

  add(entry: number, sector: number): void {
    const loB = mix(sector, 0x1b873593) | 1;
    const hiB = mix(sector, 0x9b05688c) | 1;
    this.grains++;
    this.loFixed = (this.loFixed + mix(sector, 0x3c6ef372) + Math.imul(loB, entry)) | 0;
    this.hiFixed = (this.hiFixed + mix(sector, 0x510e527f) + Math.imul(hiB, entry)) | 0;
    this.loSlope = (this.loSlope + loB) | 0;
    this.hiSlope = (this.hiSlope + hiB) | 0;
  }
}

/** A 32-bit hash of a sector number up to 2^50 (murmur3's finaliser over both halves). */
function mix(sector: number, seed: number): number {
  let h = Math.imul((sector >>> 0) ^ seed, 0xcc9e2d51);
  h ^= h >>> 15;
  h = Math.imul(h ^ Math.floor(sector / 2 ** 32), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * GTE 0 is unallocated, and 1 a zeroed grain when the header's zeroed-grain flag is set (VMDK 5.0
 * §"Hosted Sparse Extent Header", §"Grain Table"): neither has a grain in the stream. Without the
 * flag a 1 names sector 1, where no grain can be, and so never matches a grain met.
 */
export function summariseTable(gt: Buffer, zeroedGrainGTEs: boolean, into: (entry: number, sector: number) => void): void {
  const none = zeroedGrainGTEs ? 1 : 0;
  for (let j = 0; j < gt.length / 4; j++) {
    const sector = gt.readUInt32LE(j * 4);
    if (sector > none) into(j, sector);
  }
}
