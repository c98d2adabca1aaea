/**
 * One stretch of the guest disk as the L2 tables describe it, before any byte is read:
 * - data: stored uncompressed at `host` (contiguous for `length` bytes)
 * - compressed: one whole guest cluster stored compressed (descriptor decoded into host/byteLength)
 * - zero / unallocated: nothing stored (zero hides a backing file, unallocated falls through)
 */
export type MapPiece =
  | { kind: 'data'; offset: number; length: number; host: number }
  | { kind: 'compressed'; offset: number; length: number; host: number; byteLength: number; l2EntryOffset: number }
  | { kind: 'zero' | 'unallocated'; offset: number; length: number };

/** Appends `p` to `out`, merging it into the last piece when they continue each other. */
export function pushPiece(out: MapPiece[], p: MapPiece): void {
  if (p.length <= 0) return;
  const last = out[out.length - 1];
  if (last && last.kind === p.kind && last.offset + last.length === p.offset) {
    if (p.kind === 'zero' || p.kind === 'unallocated') {
      out[out.length - 1] = { ...last, length: last.length + p.length };
      return;
    }
    if (p.kind === 'data' && last.kind === 'data' && last.host + last.length === p.host) {
      out[out.length - 1] = { ...last, length: last.length + p.length };
      return;
    }
  }
  out.push(p);
}
