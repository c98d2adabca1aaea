import { BLOCK, paddedSize } from '../tar/tar-header.js';

/** The largest size the 11 octal digits of a ustar size field hold: 8 GiB - 1. */
const MAX_OCTAL_SIZE = 0o77777777777;
/** The members' mtime without an image identity (a fixed date, so equal inputs give equal archives). */
const DEFAULT_MTIME = Math.floor(Date.UTC(2020, 0, 1) / 1000);
/** The 11 octal digits of the mtime field. */
const MAX_OCTAL_MTIME = 0o77777777777;

/**
 * The header blocks of a regular file member (IEEE Std 1003.1-2017, pax, "ustar Interchange
 * Format"). A size over 8 GiB - 1 does not fit the octal field, so a pax extended header ('x')
 * carrying "size=N" precedes it (pax "pax Extended Header"): the POSIX way, read by GNU tar,
 * bsdtar, Python's tarfile and VMware's and the clouds' importers, where GNU base-256 is GNU-only.
 */
export function encodeMemberHeader(name: string, size: number, mtimeSeconds = DEFAULT_MTIME): Buffer {
  const mtime = Math.min(Math.max(0, Math.floor(mtimeSeconds)), MAX_OCTAL_MTIME);
  const nameBytes = Buffer.byteLength(name, 'utf8');
  if (size <= MAX_OCTAL_SIZE && nameBytes <= 100) return ustarBlock(name, size, '0', mtime);
  const records = [...(size > MAX_OCTAL_SIZE ? [paxRecord('size', String(size))] : []), ...(nameBytes > 100 ? [paxRecord('path', name)] : [])];
  const body = Buffer.from(records.join(''), 'utf8');
  const paxName = `PaxHeaders/${Buffer.from(name).subarray(0, 80).toString('utf8').replace(/\uFFFD+$/, '')}`;
  const out = Buffer.alloc(BLOCK + paddedSize(body.length) + BLOCK);
  ustarBlock(paxName, body.length, 'x', mtime).copy(out, 0);
  body.copy(out, BLOCK);
  const shortName = Buffer.from(name).subarray(0, 100).toString('utf8').replace(/\uFFFD+$/, '');
  ustarBlock(shortName, Math.min(size, MAX_OCTAL_SIZE), '0', mtime).copy(out, BLOCK + paddedSize(body.length));
  return out;
}

/** Zeros after a body up to the next 512-byte boundary. */
export function memberPadding(size: number): Buffer {
  return Buffer.alloc(paddedSize(size) - size);
}

/** Two zero blocks end an archive (ustar §"the end of the archive"). */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** "LEN key=value\n" where LEN counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(rest, 'utf8');
  while (String(len).length + Buffer.byteLength(rest, 'utf8') !== len) len = String(len).length + Buffer.byteLength(rest, 'utf8');
  return `${len}${rest}`;
}

function ustarBlock(name: string, size: number, typeflag: string, mtime: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, 0o644);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, size);
  octal(b, 136, 12, mtime);
  b.write(typeflag, 156, 1, 'latin1');
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.write('root', 265, 32, 'latin1');
  b.write('root', 297, 32, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'latin1');
  return b;
}

/** A zero-padded octal number filling width-1 digits, NUL-terminated. */
function octal(b: Buffer, at: number, width: number, value: number): void {
  b.write(value.toString(8).padStart(width - 1, '0') + '\u0000', at, width, 'latin1');
}
