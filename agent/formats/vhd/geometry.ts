/** A disk geometry as the footer stores it (VHD spec, "Hard Disk Footer Format", field Disk Geometry). */
export interface ChsGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/** 65535 cylinders x 16 heads x 255 sectors: the largest geometry the footer can state. */
export const MAX_CHS_SECTORS = 65535 * 16 * 255;

/**
 * VHD spec, Appendix "CHS Calculation": the geometry for a disk of `totalSectors` sectors. It may
 * describe fewer sectors than asked (the product rounds down); the footer's Current Size stays exact.
 */
export function chsForSectors(totalSectors: number): ChsGeometry {
  const sectors = Math.min(totalSectors, MAX_CHS_SECTORS);
  let spt: number;
  let heads: number;
  let cylTimesHeads: number;
  if (sectors >= 65535 * 16 * 63) {
    spt = 255;
    heads = 16;
    cylTimesHeads = Math.floor(sectors / spt);
  } else {
    spt = 17;
    cylTimesHeads = Math.floor(sectors / spt);
    heads = Math.max(4, Math.floor((cylTimesHeads + 1023) / 1024));
    if (cylTimesHeads >= heads * 1024 || heads > 16) {
      spt = 31;
      heads = 16;
      cylTimesHeads = Math.floor(sectors / spt);
    }
    if (cylTimesHeads >= heads * 1024) {
      spt = 63;
      heads = 16;
      cylTimesHeads = Math.floor(sectors / spt);
    }
  }
  return { cylinders: Math.floor(cylTimesHeads / heads), heads, sectorsPerTrack: spt };
}

export function chsSectors(g: ChsGeometry): number {
  return g.cylinders * g.heads * g.sectorsPerTrack;
}
