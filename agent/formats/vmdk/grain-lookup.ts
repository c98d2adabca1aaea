import { grainPiece, readGrainTable, GRAIN_ENTRY_BYTES, type GrainPiece, type SparseLayout } from './grain-map.js';
import { SECTOR, gtCount } from './sparse-header.js';

interface GrainTable {
  entries: Buffer;
  /** Byte position of the table in the file, for error messages. */
  pos: number;
}

/** Grain tables kept for random access: 64 tables of at most 2 KiB (MAX_GTES_PER_GT entries). */
const MAX_CACHED_TABLES = 64;

/**
 * One grain looked up by its index, VMDK 5.0 §"Grain Directories and Grain Tables": GD entry
 * t = grain / numGTEsPerGT, then GTE grain % numGTEsPerGT; each entry is checked as the ordered walk
 * (grain-map.ts) checks it. Grain tables are kept in a small LRU so nearby reads cost no I/O.
 */
export class GrainLookup {
  private readonly tables = new Map<number, GrainTable | null>();

  constructor(private readonly layout: SparseLayout) {}

  get grainBytes(): number {
    return this.layout.header.grainSectors * SECTOR;
  }

  async piece(grain: number): Promise<GrainPiece> {
    const h = this.layout.header;
    const grainBytes = this.grainBytes;
    const offset = grain * grainBytes;
    const length = Math.min(grainBytes, this.layout.size - offset);
    const t = Math.floor(grain / h.numGTEsPerGT);
    const gt = await this.table(t);
    if (!gt) return { kind: 'unallocated', offset, length, filePos: 0, compressed: false };
    const j = grain % h.numGTEsPerGT;
    return grainPiece(this.layout, gt.entries.readUInt32LE(j * GRAIN_ENTRY_BYTES), offset, length, gt.pos + j * GRAIN_ENTRY_BYTES);
  }

  private async table(t: number): Promise<GrainTable | null> {
    const hit = this.tables.get(t);
    if (hit !== undefined) {
      this.tables.delete(t);
      this.tables.set(t, hit);
      return hit;
    }
    const h = this.layout.header;
    let gt: GrainTable | null = null;
    if (t < gtCount(h)) {
      const gdEntryPos = h.gdOffset * SECTOR + t * GRAIN_ENTRY_BYTES;
      const gtSector = (await this.layout.file.read(gdEntryPos, GRAIN_ENTRY_BYTES, 'grain directory')).readUInt32LE(0);
      if (gtSector !== 0) gt = { entries: await readGrainTable(this.layout, t, gtSector, gdEntryPos), pos: gtSector * SECTOR };
    }
    this.tables.set(t, gt);
    if (this.tables.size > MAX_CACHED_TABLES) this.tables.delete(this.tables.keys().next().value as number);
    return gt;
  }
}
