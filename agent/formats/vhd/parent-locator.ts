import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { VHD } from './error-codes.js';
import { FOOTER_SIZE } from './footer.js';
import type { DynamicHeader, ParentLocatorEntry } from './dynamic-header.js';
import type { ReservedRange } from './block-allocation-table.js';

/** A Windows path is at most 32767 UTF-16 units; anything longer is not a path. */
const MAX_LOCATOR_BYTES = 65536;

/**
 * VHD spec, "Dynamic Disk Header Format", Parent Locator Entries, Platform Code: how each entry's
 * Platform Data encodes the parent's path. Relative ones are tried first: a chain copied elsewhere
 * keeps its relative layout, not its absolute paths.
 */
const PLATFORMS: Record<string, { relative: boolean; decode: (data: Buffer) => string | undefined }> = {
  W2ru: { relative: true, decode: (d) => trimNul(d.toString('utf16le')) }, // UTF-16LE relative Windows path
  Wi2r: { relative: true, decode: (d) => trimNul(d.toString('latin1')) }, // deprecated: ASCII relative path
  W2ku: { relative: false, decode: (d) => trimNul(d.toString('utf16le')) }, // UTF-16LE absolute Windows path
  Wi2k: { relative: false, decode: (d) => trimNul(d.toString('latin1')) }, // deprecated: ASCII absolute path
  MacX: { relative: false, decode: (d) => fileUrlPath(trimNul(d.toString('utf8'))) }, // UTF-8 file URL (RFC 2396)
  'Mac ': { relative: false, decode: (d) => fileUrlPath(trimNul(d.toString('utf8'))) }, // Mac OS alias: usable only if it is a URL
};

/** The file ranges holding locator data, which blocks must not overlap. */
export function locatorRanges(header: DynamicHeader): ReservedRange[] {
  return header.locators
    .filter((l) => l.dataOffset !== undefined && l.dataLength > 0)
    .map((l) => ({ name: `parent locator ${l.index}'s data`, start: l.dataOffset!, end: l.dataOffset! + l.dataLength }));
}

/** Every path the parent may be at, best first: each locator's path, then the Parent Unicode Name beside the child. */
export async function parentCandidates(file: RandomAccessFile, header: DynamicHeader): Promise<string[]> {
  const childDir = dirname(file.path);
  const ordered = [...header.locators].sort((a, b) => rank(a) - rank(b));
  const out: string[] = [];
  for (const entry of ordered) {
    const platform = PLATFORMS[entry.platform];
    if (!platform) continue;
    const text = platform.decode(await readLocatorData(file, entry));
    if (text) out.push(...pathCandidates(text, childDir, platform.relative));
  }
  if (header.parentName) out.push(resolve(childDir, windowsBasename(header.parentName)));
  return [...new Set(out)];
}

function rank(e: ParentLocatorEntry): number {
  const p = PLATFORMS[e.platform];
  return p ? (p.relative ? 0 : 1) : 2;
}

async function readLocatorData(file: RandomAccessFile, e: ParentLocatorEntry): Promise<Buffer> {
  const where = { file: file.path, offset: e.entryOffset };
  if (e.dataLength === 0 || e.dataLength > MAX_LOCATOR_BYTES) {
    throw vmxError(VHD.BAD_PARENT_LOCATOR, `parent locator ${e.index} (${JSON.stringify(e.platform)}) declares ${e.dataLength} bytes of path data; a path takes 1 to ${MAX_LOCATOR_BYTES}`, where);
  }
  const start = e.dataOffset;
  if (start === undefined || start < FOOTER_SIZE || start + e.dataLength > file.size - FOOTER_SIZE) {
    throw vmxError(VHD.BAD_PARENT_LOCATOR, `parent locator ${e.index} (${JSON.stringify(e.platform)}) points at file offset ${start ?? 'beyond 2^53'}, outside this ${file.size}-byte file's data area`, where);
  }
  return file.read(start, e.dataLength, `parent locator ${e.index} data`);
}

/** Relative paths resolve against the child's folder; absolute Windows paths fall back to their file name there. */
function pathCandidates(text: string, childDir: string, relative: boolean): string[] {
  const slashed = text.replace(/\\/g, '/');
  if (relative) return [resolve(childDir, slashed)];
  const beside = resolve(childDir, windowsBasename(text));
  return isAbsolute(slashed) && !slashed.startsWith('//') ? [slashed, beside] : [beside];
}

function windowsBasename(p: string): string {
  return basename(p.replace(/\\/g, '/'));
}

function trimNul(s: string): string | undefined {
  const t = s.replace(/\0+$/, '');
  return t.length > 0 ? t : undefined;
}

function fileUrlPath(s: string | undefined): string | undefined {
  if (!s?.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(s.replace(/^file:\/\/localhost\//, 'file:///'));
  } catch {
    return undefined;
  }
}
