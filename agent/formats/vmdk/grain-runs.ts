import type { ExtentKind } from '../../disk/extent.js';
import type { GrainPiece } from './grain-map.js';

/** A part of one grain: all of it, or a slice when a grain is larger than maxDataLength. */
export interface GrainSlice extends GrainPiece {
  /** Offset of this slice within its (inflated) grain. */
  inGrain: number;
  /** Virtual offset of the grain's first byte (for the compressed grain's LBA). */
  grainOffset: number;
}

/**
 * What one data extent is read from: a single positional read (uncompressed grains contiguous in
 * the file) or the compressed grains that fill it. Empty runs carry no slices.
 */
export interface GrainRun {
  kind: ExtentKind;
  offset: number;
  length: number;
  compressed: boolean;
  filePos: number;
  slices: GrainSlice[];
}

/**
 * Coalesces grains into runs (docs/DEVELOPING.md: "Coalesce contiguous allocated runs into one read"):
 * empty grains of one kind merge without limit; data grains merge up to `maxLen` bytes when they
 * follow each other in the disk and, uncompressed, in the file too.
 */
export async function* coalesceGrains(pieces: AsyncIterable<GrainPiece>, maxLen: number): AsyncGenerator<GrainRun> {
  let cur: GrainRun | undefined;
  for await (const piece of pieces) {
    for (const s of slicesOf(piece, maxLen)) {
      if (cur && canExtend(cur, s, maxLen)) {
        cur.length += s.length;
        if (s.kind === 'data') cur.slices.push(s);
        continue;
      }
      if (cur) yield cur;
      cur = { kind: s.kind, offset: s.offset, length: s.length, compressed: s.compressed, filePos: s.filePos, slices: s.kind === 'data' ? [s] : [] };
    }
  }
  if (cur) yield cur;
}

function* slicesOf(p: GrainPiece, maxLen: number): Generator<GrainSlice> {
  if (p.kind !== 'data' || p.length <= maxLen) {
    yield { ...p, inGrain: 0, grainOffset: p.offset };
    return;
  }
  for (let at = 0; at < p.length; at += maxLen) {
    const length = Math.min(maxLen, p.length - at);
    yield { ...p, offset: p.offset + at, length, filePos: p.compressed ? p.filePos : p.filePos + at, inGrain: at, grainOffset: p.offset };
  }
}

function canExtend(cur: GrainRun, s: GrainSlice, maxLen: number): boolean {
  if (cur.kind !== s.kind || cur.offset + cur.length !== s.offset) return false;
  if (s.kind !== 'data') return true;
  if (cur.compressed !== s.compressed || cur.length + s.length > maxLen) return false;
  return s.compressed || cur.filePos + cur.length === s.filePos;
}
