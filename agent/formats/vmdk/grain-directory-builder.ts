import { vmxError } from '../../core/errors.js';
import { VMDKW } from './writer-error-codes.js';
import {
  encodeMetadataMarker,
  GT_SECTORS,
  GTES_PER_GT,
  MARKER_GD,
  MARKER_GT,
  MAX_SECTOR_OFFSET,
  SECTOR_BYTES,
  sectorsFor,
} from './writer-layout.js';

/**
 * The grain directory of a stream-optimized extent, built as grains stream out: the whole directory
 * (one uint32 per 32 MiB of disk) plus the one grain table still open. VMDK 5.0 §Grain Directory and
 * §Grain Tables: a GTE is the sector of the grain (its marker, in a stream-optimized extent), a GDE
 * the sector of a grain table; 0 means "not allocated", so tables covering no grain are never written.
 */
export class GrainDirectoryBuilder {
  private readonly directory: Uint32Array;
  private readonly table = new Uint32Array(GTES_PER_GT);
  private openTable = -1;

  constructor(totalGrains: number) {
    this.directory = new Uint32Array(Math.ceil(totalGrains / GTES_PER_GT));
  }

  get tableCount(): number {
    return this.directory.length;
  }

  /** The index of the grain table still being filled, -1 when none. */
  get openTableIndex(): number {
    return this.openTable;
  }

  /** Records that grain `grain` starts at `sector`. Grains arrive in increasing order. */
  setGrain(grain: number, sector: number): void {
    const t = Math.floor(grain / GTES_PER_GT);
    if (this.openTable !== -1 && this.openTable !== t) {
      throw new RangeError(`grain ${grain} belongs to table ${t} while table ${this.openTable} is still open`);
    }
    checkAddressable(sector, `grain ${grain}`);
    this.openTable = t;
    this.table[grain % GTES_PER_GT] = sector;
  }

  /**
   * Closes the open table: returns its GT marker + 4 table sectors, to be written at `markerSector`,
   * and records the table's sector (the one after the marker) in the directory.
   */
  closeTable(markerSector: number): Buffer {
    if (this.openTable === -1) throw new RangeError('no grain table is open');
    const tableSector = markerSector + 1;
    checkAddressable(tableSector + GT_SECTORS - 1, `grain table ${this.openTable}`);
    this.directory[this.openTable] = tableSector;
    const out = Buffer.alloc((1 + GT_SECTORS) * SECTOR_BYTES);
    encodeMetadataMarker(MARKER_GT, GT_SECTORS).copy(out, 0);
    writeUint32Array(out, SECTOR_BYTES, this.table);
    this.table.fill(0);
    this.openTable = -1;
    return out;
  }

  /** Sectors the directory occupies (without its marker). */
  get directorySectors(): number {
    return sectorsFor(this.directory.length * 4);
  }

  /** The GD marker and the directory, to be written at `markerSector`. */
  encodeDirectory(markerSector: number): Buffer {
    const sectors = this.directorySectors;
    checkAddressable(markerSector + sectors, 'the grain directory');
    const out = Buffer.alloc((1 + sectors) * SECTOR_BYTES);
    encodeMetadataMarker(MARKER_GD, sectors).copy(out, 0);
    writeUint32Array(out, SECTOR_BYTES, this.directory);
    return out;
  }
}

function writeUint32Array(out: Buffer, at: number, values: Uint32Array): void {
  for (let i = 0; i < values.length; i++) out.writeUInt32LE(values[i]!, at + 4 * i);
}

function checkAddressable(sector: number, what: string): void {
  if (sector > MAX_SECTOR_OFFSET) {
    throw vmxError(
      VMDKW.OUTPUT_TOO_LARGE,
      `${what} would be written at sector ${sector}, beyond the 32-bit sector offsets of grain tables (VMDK 5.0 §Grain Tables); the output exceeds 2 TiB`,
      { offset: sector * SECTOR_BYTES },
    );
  }
}
