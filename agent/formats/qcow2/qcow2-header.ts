import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { QCOW2 } from './error-codes.js';

/** qcow2.txt §Header: "QFI\xfb". */
export const QCOW2_MAGIC = 0x514649fb;
export const MIN_CLUSTER_BITS = 9;
/** qcow2.txt §Header cluster_bits: qemu's implementation limit of 2 MiB clusters. */
export const MAX_CLUSTER_BITS = 21;
/** qcow2.txt §Header size note: qemu limits the L1 table to 32 MiB, i.e. 4 Mi entries. */
export const MAX_L1_ENTRIES = (32 * 1024 * 1024) / 8;
const MAX_BACKING_NAME = 1023;

/** qcow2.txt §Header incompatible_features. */
export const INCOMPAT = { DIRTY: 0, CORRUPT: 1, EXTERNAL_DATA: 2, COMPRESSION_TYPE: 3, EXTENDED_L2: 4 } as const;
const KNOWN_INCOMPAT_MASK = 0b11111n;

/** qcow2.txt §Header extensions: type codes. */
const EXT_END = 0x00000000;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_FEATURE_NAMES = 0x6803f857;
const EXT_EXTERNAL_DATA = 0x44415441;

export type CompressionType = 'zlib' | 'zstd';

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  clusterSize: number;
  virtualSize: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  refcountOrder: number;
  snapshotCount: number;
  headerLength: number;
  incompatible: bigint;
  compressionType: CompressionType;
  extendedL2: boolean;
  backingFile: string | undefined;
  backingFormat: string | undefined;
  /** Names from the feature name table, keyed "type:bit" (qcow2.txt §Feature name table). */
  featureNames: Map<string, string>;
}

/** A u64 header field as a number; values past 2^53 cannot be file offsets or sizes vmxfer handles. */
function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64BE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
}

/** Reads and validates the header and its extensions from the first cluster (qcow2.txt §Header). */
export async function readQcow2Header(file: RandomAccessFile): Promise<Qcow2Header> {
  const fixed = await file.read(0, Math.min(file.size, 104), 'qcow2 header');
  const where = { file: file.path, offset: 0 };
  if (fixed.length < 72 || fixed.readUInt32BE(0) !== QCOW2_MAGIC) {
    throw vmxError(QCOW2.BAD_MAGIC, 'the file does not start with the qcow2 magic "QFI\\xfb" and a 72-byte header', where);
  }
  const version = fixed.readUInt32BE(4);
  if (version !== 2 && version !== 3) {
    throw vmxError(QCOW2.BAD_VERSION, `qcow2 version ${version} is not supported (only 2 and 3)`, { file: file.path, offset: 4 });
  }
  if (version === 3 && fixed.length < 104) throw vmxError(QCOW2.BAD_HEADER, 'a version 3 header needs at least 104 bytes', where);
  const clusterBits = fixed.readUInt32BE(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw vmxError(QCOW2.CLUSTER_BITS, `cluster_bits ${clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS} (qcow2.txt §Header)`, { file: file.path, offset: 20 });
  }
  const h: Qcow2Header = {
    version,
    clusterBits,
    clusterSize: 2 ** clusterBits,
    virtualSize: u64(fixed, 24),
    l1Size: fixed.readUInt32BE(36),
    l1TableOffset: u64(fixed, 40),
    refcountTableOffset: u64(fixed, 48),
    refcountTableClusters: fixed.readUInt32BE(56),
    snapshotCount: fixed.readUInt32BE(60),
    refcountOrder: version === 3 ? fixed.readUInt32BE(96) : 4,
    headerLength: version === 3 ? fixed.readUInt32BE(100) : 72,
    incompatible: version === 3 ? fixed.readBigUInt64BE(72) : 0n,
    compressionType: 'zlib',
    extendedL2: false,
    backingFile: undefined,
    backingFormat: undefined,
    featureNames: new Map(),
  };
  const crypt = fixed.readUInt32BE(32);
  if (crypt !== 0) throw vmxError(QCOW2.ENCRYPTED, `the image is encrypted (crypt_method ${crypt}); vmxfer reads only unencrypted images`, { file: file.path, offset: 32 });
  validateV3Fields(h, file.path);
  const head = await file.read(0, Math.min(file.size, h.clusterSize), 'qcow2 header cluster');
  if (version === 3) await parseExtensions(h, head, file.path);
  checkIncompatibleFeatures(h, file.path);
  readCompressionType(h, head, file.path);
  h.extendedL2 = bit(h.incompatible, INCOMPAT.EXTENDED_L2);
  if (h.extendedL2 && clusterBits < 14) {
    throw vmxError(QCOW2.CLUSTER_BITS, `cluster_bits ${clusterBits} is below 14, the minimum with extended L2 entries (qcow2.txt §Header)`, { file: file.path, offset: 20 });
  }
  h.backingFile = await readBackingName(file, fixed);
  return h;
}

function validateV3Fields(h: Qcow2Header, path: string): void {
  if (h.version !== 3) return;
  if (h.headerLength < 104 || h.headerLength % 8 !== 0 || h.headerLength > h.clusterSize) {
    throw vmxError(QCOW2.BAD_HEADER, `header_length ${h.headerLength} must be a multiple of 8 between 104 and the cluster size`, { file: path, offset: 100 });
  }
  if (h.refcountOrder > 6) {
    throw vmxError(QCOW2.BAD_HEADER, `refcount_order ${h.refcountOrder} exceeds 6 (qcow2.txt §Header)`, { file: path, offset: 96 });
  }
}

function bit(mask: bigint, n: number): boolean {
  return ((mask >> BigInt(n)) & 1n) === 1n;
}

/** qcow2.txt §Header incompatible_features: "An implementation must fail to open an image if an unknown bit is set." */
function checkIncompatibleFeatures(h: Qcow2Header, path: string): void {
  const where = { file: path, offset: 72 };
  const unknown = h.incompatible & ~KNOWN_INCOMPAT_MASK;
  if (unknown !== 0n) {
    let n = 0;
    while (!bit(unknown, n)) n++;
    const name = h.featureNames.get(`0:${n}`);
    throw vmxError(QCOW2.UNKNOWN_INCOMPATIBLE, `incompatible feature bit ${n}${name ? ` ("${name}")` : ''} is set and unknown to vmxfer; refusing to guess its meaning`, where);
  }
  if (bit(h.incompatible, INCOMPAT.CORRUPT)) {
    throw vmxError(QCOW2.CORRUPT, 'the image is marked corrupt (incompatible bit 1): its metadata may be inconsistent; repair it with `qemu-img check -r all` first', where);
  }
  if (bit(h.incompatible, INCOMPAT.DIRTY)) {
    throw vmxError(QCOW2.DIRTY, 'the image is marked dirty (incompatible bit 0): it was not closed cleanly and may be inconsistent; run `qemu-img check -r all` first', where);
  }
  if (bit(h.incompatible, INCOMPAT.EXTERNAL_DATA)) {
    throw vmxError(QCOW2.EXTERNAL_DATA_FILE, 'the image stores its data in an external data file (incompatible bit 2), which vmxfer does not read', where);
  }
}

/** qcow2.txt §Additional fields: byte 104 compression_type, present only when header_length > 104. */
function readCompressionType(h: Qcow2Header, head: Buffer, path: string): void {
  const flagged = bit(h.incompatible, INCOMPAT.COMPRESSION_TYPE);
  const type = h.headerLength > 104 ? head[104]! : 0;
  const where = { file: path, offset: 104 };
  if (flagged !== (type !== 0)) {
    throw vmxError(QCOW2.COMPRESSION_TYPE, `compression_type ${type} contradicts incompatible bit 3 (${flagged ? 'set' : 'clear'}); the bit is set exactly when the type is not zlib`, where);
  }
  if (type > 1) throw vmxError(QCOW2.COMPRESSION_TYPE, `compression_type ${type} is unknown (0 zlib, 1 zstd)`, where);
  h.compressionType = type === 1 ? 'zstd' : 'zlib';
}

/** qcow2.txt §Header extensions: type, length, data padded to 8 bytes, until type 0, inside the first cluster. */
async function parseExtensions(h: Qcow2Header, head: Buffer, path: string): Promise<void> {
  let pos = h.headerLength;
  for (;;) {
    if (pos + 8 > head.length) throw vmxError(QCOW2.BAD_EXTENSION, 'the header extension area runs past the first cluster without an end marker', { file: path, offset: pos });
    const type = head.readUInt32BE(pos);
    const length = head.readUInt32BE(pos + 4);
    if (type === EXT_END) return;
    const data = pos + 8;
    if (data + length > head.length) {
      throw vmxError(QCOW2.BAD_EXTENSION, `header extension 0x${type.toString(16)} of ${length} bytes runs past the first cluster`, { file: path, offset: pos });
    }
    const body = head.subarray(data, data + length);
    if (type === EXT_BACKING_FORMAT) h.backingFormat = body.toString('utf8');
    else if (type === EXT_FEATURE_NAMES) readFeatureNames(h, body);
    else if (type === EXT_EXTERNAL_DATA && !bit(h.incompatible, INCOMPAT.EXTERNAL_DATA)) {
      throw vmxError(QCOW2.BAD_EXTENSION, 'an external data file name extension is present without incompatible bit 2', { file: path, offset: pos });
    }
    pos = data + Math.ceil(length / 8) * 8;
  }
}

/** qcow2.txt §Feature name table: 48-byte entries of type, bit, 46-byte name. */
function readFeatureNames(h: Qcow2Header, body: Buffer): void {
  for (let at = 0; at + 48 <= body.length; at += 48) {
    const name = body.subarray(at + 2, at + 48).toString('utf8').replace(/\0.*$/s, '');
    h.featureNames.set(`${body[at]}:${body[at + 1]}`, name);
  }
}

/** qcow2.txt §Header backing_file_offset/size: at most 1023 bytes, not NUL-terminated. */
async function readBackingName(file: RandomAccessFile, fixed: Buffer): Promise<string | undefined> {
  const offset = u64(fixed, 8);
  if (offset === 0) return undefined;
  const size = fixed.readUInt32BE(16);
  if (size === 0 || size > MAX_BACKING_NAME || offset + size > file.size) {
    throw vmxError(QCOW2.BAD_BACKING_NAME, `backing file name of ${size} bytes at offset ${offset} must be 1..${MAX_BACKING_NAME} bytes inside the file`, { file: file.path, offset: 8 });
  }
  return (await file.read(offset, size, 'backing file name')).toString('utf8');
}
