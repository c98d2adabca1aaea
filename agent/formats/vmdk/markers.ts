/**
 * Markers, VMDK 5.0 §"Stream-Optimized Compressed Sparse Extents", "Markers": every structure after
 * the header starts on a sector with a marker { val u64, size u32, type u32 }. size > 0: a grain
 * marker (val = LBA, compressed data follows at byte 12). size = 0: a metadata marker whose type says
 * what the following `val` sectors hold.
 */
export const MARKER_EOS = 0;
export const MARKER_GT = 1;
export const MARKER_GD = 2;
export const MARKER_FOOTER = 3;

export const MARKER_NAMES: Record<number, string> = {
  [MARKER_EOS]: 'end-of-stream',
  [MARKER_GT]: 'grain table',
  [MARKER_GD]: 'grain directory',
  [MARKER_FOOTER]: 'footer',
};

export interface MetadataMarker {
  sectors: number;
  type: number;
}

export function readMetadataMarker(sector: Buffer): MetadataMarker {
  const v = sector.readBigUInt64LE(0);
  return { sectors: v > 2n ** 40n ? Number.MAX_SAFE_INTEGER : Number(v), type: sector.readUInt32LE(12) };
}
