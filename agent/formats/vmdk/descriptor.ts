import { vmxError } from '../../core/errors.js';
import { VMDK } from './error-codes.js';

/**
 * The text descriptor, VMDK 5.0 §"The Descriptor File": a header (version, CID, parentCID,
 * createType, parentFileNameHint), extent descriptions and the disk database (ddb.* keys).
 * Lines end in LF (CR tolerated); '#' starts a comment; an embedded descriptor ends at its first NUL.
 */
export type ExtentAccess = 'RW' | 'RDONLY' | 'NOACCESS';

export interface ExtentLine {
  access: ExtentAccess;
  sectors: number;
  /** FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, VMFSRDM, VMFSRAW, SESPARSE, ... (upper case). */
  type: string;
  fileName?: string | undefined;
  /** Start sector inside the extent file (FLAT and VMFS only). */
  offsetSectors: number;
  /** 1-based line number, for messages. */
  line: number;
}

export interface VmdkDescriptor {
  version: number;
  cid: number;
  /** 0xffffffff: no parent (VMDK 5.0 §"Header": parentCID). */
  parentCid: number;
  createType: string;
  parentFileNameHint?: string | undefined;
  extents: ExtentLine[];
  ddb: Record<string, string>;
}

export const NO_PARENT_CID = 0xffffffff;
/** Descriptors are a few hundred bytes; anything past this is not one. */
export const MAX_DESCRIPTOR_BYTES = 1024 * 1024;

const EXTENT_LINE = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Za-z]+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$/;
const KEY_VALUE = /^([A-Za-z][\w.]*)\s*=\s*(.*?)\s*$/;

export function parseDescriptor(bytes: Buffer, file: string, baseOffset = 0): VmdkDescriptor {
  if (bytes.length > MAX_DESCRIPTOR_BYTES) throw malformed(`descriptor of ${bytes.length} bytes is over the ${MAX_DESCRIPTOR_BYTES}-byte limit`, file, baseOffset);
  const nul = bytes.indexOf(0);
  const text = bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('utf8');
  const keys: Record<string, string> = {};
  const ddb: Record<string, string> = {};
  const extents: ExtentLine[] = [];
  text.split('\n').forEach((raw, i) => parseLine(raw.trim(), i + 1, { keys, ddb, extents }, file, baseOffset));
  return {
    version: numberKey(keys, 'version', 10, file, baseOffset) ?? 1,
    cid: numberKey(keys, 'CID', 16, file, baseOffset) ?? 0,
    parentCid: numberKey(keys, 'parentCID', 16, file, baseOffset) ?? NO_PARENT_CID,
    createType: requiredKey(keys, 'createType', file, baseOffset),
    parentFileNameHint: keys['parentFileNameHint'],
    extents,
    ddb,
  };
}

interface Sink {
  keys: Record<string, string>;
  ddb: Record<string, string>;
  extents: ExtentLine[];
}

function parseLine(line: string, n: number, sink: Sink, file: string, baseOffset: number): void {
  if (line === '' || line.startsWith('#')) return;
  const ext = EXTENT_LINE.exec(line);
  if (ext) {
    sink.extents.push(extentLine(ext, n, file, baseOffset));
    return;
  }
  const kv = KEY_VALUE.exec(line);
  if (!kv) throw malformed(`line ${n} ("${line.slice(0, 60)}") is neither key=value nor an extent description`, file, baseOffset);
  const value = unquote(kv[2]!);
  if (kv[1]!.startsWith('ddb.')) sink.ddb[kv[1]!.slice(4)] = value;
  else sink.keys[kv[1]!] = value;
}

/** VMDK 5.0 §"Extent Descriptions": access, size in sectors, type, "file name", optional offset. */
function extentLine(m: RegExpExecArray, n: number, file: string, baseOffset: number): ExtentLine {
  const sectors = Number(m[2]);
  const offsetSectors = m[5] === undefined ? 0 : Number(m[5]);
  if (!Number.isSafeInteger(sectors) || sectors <= 0 || sectors * 512 > 2 ** 50) throw malformed(`line ${n}: extent size ${m[2]} sectors is zero or over 2^50 bytes`, file, baseOffset);
  if (!Number.isSafeInteger(offsetSectors) || offsetSectors * 512 > 2 ** 50) throw malformed(`line ${n}: extent offset ${m[5]} is over 2^50 bytes`, file, baseOffset);
  const type = m[3]!.toUpperCase();
  if (type !== 'ZERO' && m[4] === undefined) throw malformed(`line ${n}: a ${type} extent must name its file in quotes`, file, baseOffset);
  return { access: m[1] as ExtentAccess, sectors, type, fileName: m[4], offsetSectors, line: n };
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function numberKey(keys: Record<string, string>, key: string, radix: number, file: string, baseOffset: number): number | undefined {
  const v = keys[key];
  if (v === undefined) return undefined;
  const ok = radix === 16 ? /^[0-9a-fA-F]{1,8}$/.test(v) : /^\d{1,9}$/.test(v);
  if (!ok) throw malformed(`${key}="${v}" is not a ${radix === 16 ? '32-bit hexadecimal' : 'decimal'} number`, file, baseOffset);
  return parseInt(v, radix);
}

function requiredKey(keys: Record<string, string>, key: string, file: string, baseOffset: number): string {
  const v = keys[key];
  if (v === undefined || v === '') throw malformed(`the descriptor has no ${key}`, file, baseOffset);
  return v;
}

function malformed(sentence: string, file: string, offset: number) {
  return vmxError(VMDK.MALFORMED_DESCRIPTOR, `malformed descriptor: ${sentence}`, { file, offset });
}

/** Whether the first bytes of a file look like a descriptor text file (for detection). */
export function looksLikeDescriptor(head: Buffer, size: number): boolean {
  if (size > MAX_DESCRIPTOR_BYTES) return false;
  const text = head.subarray(0, 4096).toString('latin1');
  return /^\s*#\s*Disk DescriptorFile/m.test(text) || (/^\s*createType\s*=/m.test(text) && /^\s*(RW|RDONLY|NOACCESS)\s+\d+\s+[A-Za-z]+/m.test(text));
}
