import { VmxferError, vmxError } from '../../core/errors.js';
import { VMDK } from './error-codes.js';
import { GrainLedger, TableSummary, summariseTable } from './grain-ledger.js';
import { MARKER_EOS, MARKER_FOOTER, MARKER_GD, MARKER_GT, MARKER_NAMES, readMetadataMarker } from './markers.js';
import { SECTOR, gtCount, parseSparseHeader, type SparseHeader } from './sparse-header.js';
import type { StreamBytes } from './stream-bytes.js';

/** Most grain tables a stream may declare: a 16 MiB directory, 128 TiB at VMware's geometry. */
export const MAX_STREAM_TABLES = 1 << 22;

/**
 * The metadata of a stream-optimized extent met in one pass (VMDK 5.0 §"Stream-Optimized Compressed
 * Sparse Extents": grain tables after their grains, then the grain directory, the footer, the
 * end-of-stream marker). A stream ends only where what it met proves it complete: the grains it
 * carried are exactly those its tables list (the head's, qemu's layout, or the trailing directory's,
 * VMware's), and a header that defers the directory to the footer had a footer that agrees with it.
 * A zeroed or damaged grain marker therefore never passes for the end.
 */
export class StreamTrailer {
  /** Grain tables met in the stream, by the sector their entries start at. */
  private readonly tables = new Map<number, TableSummary>();
  /** What the trailing grain directory lists; with `sector`, where its entries started. */
  private directory: { ledger: GrainLedger; sector: number } | undefined;
  private footer = false;

  constructor(
    private readonly bytes: StreamBytes,
    private readonly h: SparseHeader,
    /** The grains the head's tables list (qemu's layout), when the head holds them. */
    private readonly head: GrainLedger | undefined,
    private readonly name: string,
  ) {}

  /** Reads one metadata structure whose marker sector is `sector` (at byte `at`); true at a verified end. */
  async metadata(sector: Buffer, at: number, grains: GrainLedger): Promise<boolean> {
    const m = readMetadataMarker(sector);
    if (m.type === MARKER_EOS && m.sectors === 0) {
      this.verifyEnd(grains, at, 'an end-of-stream marker');
      return true;
    }
    if (this.footer) throw this.fail(VMDK.MISSING_EOS, `a ${MARKER_NAMES[m.type] ?? `type ${m.type}`} marker follows the footer, where only the end-of-stream marker may`, at);
    const want = this.sectorsOf(m.type);
    if (want === undefined || m.sectors !== want) {
      const what = MARKER_NAMES[m.type] ?? `unknown type ${m.type}`;
      throw this.fail(VMDK.BAD_MARKER, `${what} marker ${want === undefined ? 'is not defined' : `says ${m.sectors} sectors, where its structure takes ${want}`}`, at);
    }
    const body = await this.body(want, m.type);
    if (m.type === MARKER_GT) this.table(body, at);
    else if (m.type === MARKER_GD) this.readDirectory(body, at);
    else this.readFooter(body, at + SECTOR);
    return false;
  }

  /** The stream reached EOF on a marker boundary: an end only for qemu's layout, whose head holds the tables. */
  endAtEof(grains: GrainLedger, at: number): void {
    if (this.h.gdAtEnd || this.footer || this.directory || !this.head) {
      throw this.fail(VMDK.MISSING_EOS, `the stream ends at byte ${at} without an end-of-stream marker`, at);
    }
    if (grains.grains < this.head.grains) {
      throw this.fail(VMDK.TRUNCATED, `the stream ends after ${grains.grains} grains, but the grain tables in its head list ${this.head.grains} and there is no end-of-stream marker`, at);
    }
    this.verifyEnd(grains, at, 'EOF');
  }

  private verifyEnd(grains: GrainLedger, at: number, how: string): void {
    if (this.h.gdAtEnd && !this.footer) {
      throw this.fail(VMDK.PREMATURE_END, `${how} at byte ${at} comes before the grain directory and footer the header defers to (gdOffset = GD_AT_END); a zeroed or damaged grain marker reads as one`, at);
    }
    const lists = [this.head, this.directory?.ledger].filter((l): l is GrainLedger => l !== undefined);
    if (lists.length === 0) throw this.fail(VMDK.PREMATURE_END, `${how} at byte ${at}, but no grain directory was met to prove the stream complete`, at);
    for (const listed of lists) {
      if (!listed.equals(grains)) {
        throw this.fail(VMDK.GRAIN_TABLE_MISMATCH, `${how} at byte ${at} after ${grains.grains} grains, but the grain tables list ${listed.grains}${listed.grains === grains.grains ? ' at other sectors or LBAs' : ''}: a grain marker or table is damaged`, at);
      }
    }
  }

  private sectorsOf(type: number): number | undefined {
    if (type === MARKER_GT) return Math.ceil((this.h.numGTEsPerGT * 4) / SECTOR);
    if (type === MARKER_GD) return Math.ceil((gtCount(this.h) * 4) / SECTOR);
    if (type === MARKER_FOOTER) return 1;
    return undefined;
  }

  private async body(sectors: number, type: number): Promise<Buffer> {
    const b = await this.bytes.read(sectors * SECTOR);
    if (b.length < sectors * SECTOR) throw this.fail(VMDK.MISSING_EOS, `the stream ends inside ${MARKER_NAMES[type]} metadata, before the end-of-stream marker`, this.bytes.position);
    return b;
  }

  private table(gt: Buffer, at: number): void {
    if (this.directory) throw this.fail(VMDK.GRAIN_TABLE_MISMATCH, `a grain table follows the grain directory, which cannot list it`, at);
    if (this.tables.size >= gtCount(this.h)) throw this.fail(VMDK.GRAIN_TABLE_MISMATCH, `grain table ${this.tables.size + 1} is more than the ${gtCount(this.h)} the capacity has room for`, at);
    const summary = new TableSummary();
    summariseTable(gt.subarray(0, this.h.numGTEsPerGT * 4), this.h.zeroedGrainGTEs, (j, sector) => summary.add(j, sector));
    this.tables.set(at / SECTOR + 1, summary);
  }

  private readDirectory(gd: Buffer, at: number): void {
    if (this.directory) throw this.fail(VMDK.GRAIN_TABLE_MISMATCH, `a second grain directory`, at);
    const ledger = new GrainLedger();
    for (let i = 0; i < gtCount(this.h); i++) {
      const gtSector = gd.readUInt32LE(i * 4);
      if (gtSector === 0) continue;
      const table = this.tables.get(gtSector);
      if (!table || table.placed) {
        throw this.fail(VMDK.GRAIN_TABLE_MISMATCH, `grain directory entry ${i} names sector ${gtSector}, where ${table ? 'another entry already placed its table' : 'the stream had no grain table'}`, at + SECTOR + i * 4);
      }
      table.placed = true;
      ledger.addTable(table, i, this.h.numGTEsPerGT);
    }
    const unplaced = [...this.tables.entries()].find(([, t]) => !t.placed);
    if (unplaced) throw this.fail(VMDK.GRAIN_TABLE_MISMATCH, `the grain table at sector ${unplaced[0]} is in no grain directory entry`, at);
    this.directory = { ledger, sector: at / SECTOR + 1 };
  }

  /** VMDK 5.0 §"Stream-Optimized Compressed Sparse Extents", "Footer": the header again, with the real gdOffset. */
  private readFooter(sector: Buffer, at: number): void {
    let f: SparseHeader;
    try {
      f = parseSparseHeader(sector, this.name, at);
    } catch (err) {
      if (err instanceof VmxferError) throw this.fail(VMDK.BAD_FOOTER, `the footer is not a valid sparse extent header (${err.code})`, at);
      throw err;
    }
    const h = this.h;
    const differs = (['capacitySectors', 'grainSectors', 'numGTEsPerGT', 'flags'] as const).find((k) => f[k] !== h[k]);
    if (differs) throw this.fail(VMDK.BAD_FOOTER, `the footer's ${differs} ${f[differs]} differs from the header's ${h[differs]}`, at);
    const gdSector = this.directory?.sector ?? (h.gdAtEnd ? undefined : h.gdOffset);
    if (f.gdAtEnd || gdSector === undefined || f.gdOffset !== gdSector) {
      throw this.fail(VMDK.BAD_FOOTER, `the footer's gdOffset ${f.gdAtEnd ? 'GD_AT_END' : f.gdOffset} is not the sector of the grain directory ${gdSector === undefined ? '(none came before the footer)' : `(${gdSector})`}`, at + 56);
    }
    this.footer = true;
  }

  private fail(code: Parameters<typeof vmxError>[0], message: string, offset: number): VmxferError {
    return vmxError(code, message, { file: this.name, offset });
  }
}
