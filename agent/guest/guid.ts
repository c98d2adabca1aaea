/** A GUID as stored on disk (UEFI 2.10 Appendix A: the first three fields little-endian), in canonical upper-case text. */
export function guidAt(buf: Buffer, at: number): string {
  const hex = (from: number, to: number, le: boolean): string => {
    const b = Buffer.from(buf.subarray(at + from, at + to));
    return (le ? b.reverse() : b).toString('hex');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`.toUpperCase();
}

/** An RFC 4122 UUID stored big-endian (ext4, XFS, Btrfs superblocks), lower-case as blkid prints it. */
export function uuidAt(buf: Buffer, at: number): string {
  const h = buf.subarray(at, at + 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
