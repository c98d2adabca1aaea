import type { ExtentKind } from '../../disk/extent.js';
import { throwIfAborted } from '../../core/abort.js';
import { vmxError, type ErrorCodeDef } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { VMDK } from './error-codes.js';
import { SECTOR, grainCount, gtCount, type SparseHeader } from './sparse-header.js';

/** A sparse extent file with the header that applies (the footer's, for GD_AT_END) and its size limit. */
export interface SparseLayout {
  file: RandomAccessFile;
  header: SparseHeader;
  /** Bytes of virtual disk read from this file (the extent line's size, at most the capacity). */
  size: number;
}

/** One grain (or a whole absent grain table) mapped to where its bytes are. */
export interface GrainPiece {
  kind: ExtentKind;
  offset: number;
  length: number;
  /** Byte position of the grain (of its marker, when compressed) in the file. */
  filePos: number;
  compressed: boolean;
}

const GD_CHUNK_ENTRIES = 4096;
export const GRAIN_ENTRY_BYTES = 4;

/**
 * Walks the grain directory and its grain tables in order, VMDK 5.0 §"Grain Directories and Grain
 * Tables": GD entry = sector of a GT (0: absent); GTE = sector of a grain (0: unallocated;
 * 1: zeroed grain when the header's zeroed-grain flag is set, §"Hosted Sparse Extent Header").
 * Memory: one GD chunk and one GT at a time, whatever the disk size.
 */
export async function* grainPieces(layout: SparseLayout, signal: AbortSignal | undefined): AsyncGenerator<GrainPiece> {
  const h = layout.header;
  const grainBytes = h.grainSectors * SECTOR;
  const gtSpan = grainBytes * h.numGTEsPerGT;
  const usedGTs = Math.min(gtCount(h), Math.ceil(layout.size / gtSpan));
  for (let first = 0; first < usedGTs; first += GD_CHUNK_ENTRIES) {
    const n = Math.min(GD_CHUNK_ENTRIES, usedGTs - first);
    const gd = await layout.file.read(h.gdOffset * SECTOR + first * GRAIN_ENTRY_BYTES, n * GRAIN_ENTRY_BYTES, 'grain directory');
    for (let i = 0; i < n; i++) {
      throwIfAborted(signal);
      const t = first + i;
      const gtSector = gd.readUInt32LE(i * GRAIN_ENTRY_BYTES);
      const start = t * gtSpan;
      if (gtSector === 0) {
        yield { kind: 'unallocated', offset: start, length: Math.min(gtSpan, layout.size - start), filePos: 0, compressed: false };
        continue;
      }
      yield* tablePieces(layout, t, gtSector, h.gdOffset * SECTOR + t * GRAIN_ENTRY_BYTES);
    }
  }
}


/** Reads grain table `t` (its GD entry given), checked as the ordered walk checks it. */
export async function readGrainTable(layout: SparseLayout, t: number, gtSector: number, gdEntryPos: number): Promise<Buffer> {
  const gtPos = gtSector * SECTOR;
  const gtBytes = layout.header.numGTEsPerGT * GRAIN_ENTRY_BYTES;
  checkMetadataPlace(layout, gtPos, gtBytes, VMDK.GT_OUT_OF_BOUNDS, `grain table ${t}`, gdEntryPos);
  return layout.file.read(gtPos, gtBytes, `grain table ${t}`);
}

async function* tablePieces(layout: SparseLayout, t: number, gtSector: number, gdEntryPos: number): AsyncGenerator<GrainPiece> {
  const h = layout.header;
  const gtPos = gtSector * SECTOR;
  const gt = await readGrainTable(layout, t, gtSector, gdEntryPos);
  const grainBytes = h.grainSectors * SECTOR;
  const firstGrain = t * h.numGTEsPerGT;
  const grains = Math.min(h.numGTEsPerGT, grainCount(h) - firstGrain);
  for (let j = 0; j < grains; j++) {
    const offset = (firstGrain + j) * grainBytes;
    if (offset >= layout.size) return;
    const length = Math.min(grainBytes, layout.size - offset);
    yield grainPiece(layout, gt.readUInt32LE(j * GRAIN_ENTRY_BYTES), offset, length, gtPos + j * GRAIN_ENTRY_BYTES);
  }
}

export function grainPiece(layout: SparseLayout, gte: number, offset: number, length: number, gtePos: number): GrainPiece {
  const h = layout.header;
  if (gte === 0) return { kind: 'unallocated', offset, length, filePos: 0, compressed: false };
  if (gte === 1 && h.zeroedGrainGTEs) return { kind: 'zero', offset, length, filePos: 0, compressed: false };
  const filePos = gte * SECTOR;
  const firstDataByte = Math.max(SECTOR, h.overHead * SECTOR, (h.descriptorOffset + h.descriptorSectors) * SECTOR);
  // A compressed grain's marker is at least 12 bytes; its full size is checked when it is read.
  const stored = h.compressed ? 12 : length;
  if (filePos < firstDataByte || filePos + stored > layout.file.size) {
    throw vmxError(VMDK.GRAIN_OUT_OF_BOUNDS, `grain table entry ${gte} puts the grain at byte ${filePos} (${stored} bytes), outside the data area [${firstDataByte}, ${layout.file.size})`, { file: layout.file.path, offset: gtePos });
  }
  return { kind: 'data', offset, length, filePos, compressed: h.compressed };
}

/** A GD or GT must lie inside the file and clear of the header sector and the embedded descriptor. */
export function checkMetadataPlace(layout: SparseLayout, pos: number, bytes: number, code: ErrorCodeDef, what: string, pointerPos: number): void {
  const h = layout.header;
  const descStart = h.descriptorOffset * SECTOR;
  const descEnd = descStart + h.descriptorSectors * SECTOR;
  const overlapsDescriptor = h.descriptorSectors > 0 && pos < descEnd && pos + bytes > descStart;
  if (pos < SECTOR || overlapsDescriptor || pos + bytes > layout.file.size) {
    throw vmxError(code, `${what} at byte ${pos} (${bytes} bytes) must lie after the header, clear of the descriptor [${descStart}, ${descEnd}) and inside the file (${layout.file.size} bytes)`, { file: layout.file.path, offset: pointerPos });
  }
}
