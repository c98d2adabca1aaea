import { crc32c } from '../../hashing/crc32c.js';
import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { VHDX } from './error-codes.js';
import { isZeroGuid, readGuid } from './guid.js';
import { FILE_ID_SIGNATURE, HEADER_OFFSETS, HEADER_SIZE, MiB } from './layout.js';

/** One VHDX header, [MS-VHDX] §2.2.2. */
export interface VhdxHeader {
  readonly offset: number;
  readonly sequenceNumber: bigint;
  readonly fileWriteGuid: string;
  readonly dataWriteGuid: string;
  readonly logGuid: string;
  readonly logVersion: number;
  readonly version: number;
  readonly logLength: number;
  readonly logOffset: number;
  readonly raw: Buffer;
}

/** §2.2.1: the file type identifier's signature is the 8 ASCII bytes "vhdxfile". */
export async function checkFileIdentifier(file: RandomAccessFile): Promise<void> {
  const sig = await file.read(0, 8, 'VHDX file type identifier');
  if (sig.toString('latin1') !== FILE_ID_SIGNATURE) {
    throw vmxError(VHDX.BAD_SIGNATURE, `file type identifier is not "vhdxfile" (MS-VHDX §2.2.1)`, { file: file.path, offset: 0 });
  }
}

/**
 * §2.2.2.1 (header validity): a header is valid when its signature is "head" and its CRC-32C (over
 * the 4 KiB header with the checksum field zeroed) matches; the current header is the valid one with
 * the greater SequenceNumber. Two valid headers with equal numbers are accepted when identical.
 */
export async function readCurrentHeader(file: RandomAccessFile): Promise<VhdxHeader> {
  const found: VhdxHeader[] = [];
  for (const offset of HEADER_OFFSETS) {
    if (offset + HEADER_SIZE > file.size) continue;
    const h = parseHeader(await file.read(offset, HEADER_SIZE, 'VHDX header'), offset);
    if (h) found.push(h);
  }
  if (found.length === 0) {
    throw vmxError(VHDX.NO_VALID_HEADER, `neither header (at 65536 and 131072) has signature "head" and a valid CRC-32C (MS-VHDX §2.2.2)`, {
      file: file.path,
      offset: HEADER_OFFSETS[0],
    });
  }
  const current = pickCurrent(found, file.path);
  validateHeader(current, file.path);
  return current;
}

function parseHeader(raw: Buffer, offset: number): VhdxHeader | undefined {
  if (raw.toString('latin1', 0, 4) !== 'head') return undefined;
  const stored = raw.readUInt32LE(4);
  const copy = Buffer.from(raw);
  copy.writeUInt32LE(0, 4);
  if (crc32c(copy) !== stored) return undefined;
  return {
    offset,
    sequenceNumber: raw.readBigUInt64LE(8),
    fileWriteGuid: readGuid(raw, 16),
    dataWriteGuid: readGuid(raw, 32),
    logGuid: readGuid(raw, 48),
    logVersion: raw.readUInt16LE(64),
    version: raw.readUInt16LE(66),
    logLength: raw.readUInt32LE(68),
    logOffset: Number(raw.readBigUInt64LE(72)),
    raw,
  };
}

function pickCurrent(found: VhdxHeader[], path: string): VhdxHeader {
  const [a, b] = found;
  if (!b) return a!;
  if (a!.sequenceNumber !== b.sequenceNumber) return a!.sequenceNumber > b.sequenceNumber ? a! : b;
  if (!a!.raw.equals(b.raw)) {
    throw vmxError(VHDX.HEADERS_CONFLICT, `both headers are valid with sequence number ${a!.sequenceNumber} but differ, so neither is current (MS-VHDX §2.2.2)`, {
      file: path,
      offset: b.offset,
    });
  }
  return a!;
}

/** §2.2.2: Version MUST be 1; LogVersion MUST be 0; LogLength and LogOffset are multiples of 1 MiB. */
function validateHeader(h: VhdxHeader, path: string): void {
  const fail = (rule: string) => vmxError(VHDX.BAD_HEADER_FIELD, `header ${rule} (MS-VHDX §2.2.2)`, { file: path, offset: h.offset });
  if (h.version !== 1) throw fail(`Version is ${h.version}, must be 1`);
  if (h.logVersion !== 0) throw fail(`LogVersion is ${h.logVersion}, must be 0`);
  if (h.logLength % MiB !== 0) throw fail(`LogLength ${h.logLength} is not a multiple of 1 MiB`);
  if (h.logOffset % MiB !== 0) throw fail(`LogOffset ${h.logOffset} is not a multiple of 1 MiB`);
  if (h.logLength > 0 && h.logOffset < MiB) throw fail(`LogOffset ${h.logOffset} lies in the header section`);
  if (!isZeroGuid(h.logGuid) && h.logLength === 0) throw fail(`LogGuid is set but LogLength is 0`);
}
