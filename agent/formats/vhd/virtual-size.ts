import type { VhdFooter } from './footer.js';
import { chsSectors, MAX_CHS_SECTORS } from './geometry.js';

/** Creator applications whose disks are as large as their CHS geometry, not their Current Size. */
const CHS_CREATORS = new Set(['vpc ', 'vs  ', 'qemu']);
/** Creators qemu reads by Current Size (Hyper-V, qemu with force_size, Disk2vhd, XenConverter, XenServer). */
const QEMU_CURRENT_SIZE_CREATORS = new Set(['win ', 'qem2', 'd2v ', 'CTXS', 'tap\0']);

export interface VirtualSizeChoice {
  size: number;
  source: 'current size' | 'CHS geometry';
  /** Set when the two readings disagree: says which one was used and why. */
  note?: string;
}

/**
 * The spec ("Hard Disk Footer Format", Current Size) makes Current Size the disk's size, and Hyper-V,
 * Disk2vhd, XenServer and VirtualBox read it so. Virtual PC ("vpc ") and Virtual Server ("vs  ") show the
 * guest only the sectors of the CHS geometry (their Current Size is usually larger), and qemu before its
 * force_size option ("qemu") sized disks to their geometry. qemu's block/vpc.c reads those creators by
 * geometry, so `qemu-img convert -O raw` yields C*H*S*512 bytes for them; we do the same, except — again
 * like qemu — when the geometry is the maximum 65535/16/255, which only says "too large for CHS".
 * qemu also reads unknown creators by geometry; we follow the spec there (Current Size) and warn.
 */
export function chooseVirtualSize(footer: VhdFooter): VirtualSizeChoice {
  const chsSize = chsSectors(footer.geometry) * 512;
  const byChs = CHS_CREATORS.has(footer.creatorApp) && chsSectors(footer.geometry) !== MAX_CHS_SECTORS;
  if (chsSize === footer.currentSize) return { size: chsSize, source: byChs ? 'CHS geometry' : 'current size' };
  const app = JSON.stringify(footer.creatorApp);
  if (byChs) {
    return { size: chsSize, source: 'CHS geometry', note: `creator ${app} sizes disks by CHS geometry: using ${chsSize} bytes, not Current Size ${footer.currentSize}` };
  }
  if (QEMU_CURRENT_SIZE_CREATORS.has(footer.creatorApp) || chsSectors(footer.geometry) === MAX_CHS_SECTORS) {
    return { size: footer.currentSize, source: 'current size' };
  }
  return { size: footer.currentSize, source: 'current size', note: `using Current Size ${footer.currentSize} bytes; the CHS geometry describes ${chsSize} (qemu reads creator ${app} by geometry)` };
}
