import type { FormatReader } from '../format-reader.js';
import { DISK_TYPE, FOOTER_SIZE, hasFooterCookie } from './footer.js';
import { openVhd } from './open-vhd.js';

/**
 * VHD (Microsoft Virtual Hard Disk Image Format Specification 1.0): dynamic and differencing disks
 * start with a footer copy ("conectix"); fixed disks are raw data with the footer as their last 512
 * bytes, so only a footer there that says "fixed" identifies one.
 */
export const vhdReader: FormatReader = {
  name: 'vhd',
  probe(input) {
    if (hasFooterCookie(input.head)) return true;
    const tail = input.tail;
    return tail.length === FOOTER_SIZE && hasFooterCookie(tail) && tail.readUInt32BE(60) === DISK_TYPE.fixed;
  },
  open(path, opts) {
    return openVhd(path, opts.parent);
  },
};
