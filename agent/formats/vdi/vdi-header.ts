import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { VDI } from './error-codes.js';

/**
 * The VDI header as VirtualBox's VDICore.h lays it out (qemu's block/vdi.c reads the same bytes):
 *   pre-header: szFileInfo[64] text ("<<< Oracle VM VirtualBox Disk Image >>>\n"), u32Signature at 64
 *     (0xbeda107f), u32Version at 68 (major << 16 | minor; 1.1 = 0x00010001);
 *   VDIHEADER1PLUS at 72: cbHeader 72, u32Type 76, fFlags 80, szComment[256] 84, offBlocks 340,
 *     offData 344, legacy geometry 348-363 (cbSector at 360), u32Dummy 364, cbDisk (u64) 368,
 *     cbBlock 376, cbBlockExtra 380, cBlocks 384, cBlocksAllocated 388, four UUIDs 392-455,
 *     LCHS geometry and padding to 512.
 * All little-endian.
 */
export interface VdiHeader {
  readonly version: string;
  readonly imageType: number;
  readonly comment: string;
  readonly blockMapOffset: number;
  readonly dataOffset: number;
  readonly sectorSize: number;
  readonly diskSize: number;
  readonly blockSize: number;
  readonly blockExtra: number;
  readonly blocks: number;
  readonly blocksAllocated: number;
  readonly uuid: string;
}

export const VDI_SIGNATURE = 0xbeda107f;
export const VDI_HEADER_READ = 512;
const VERSION_1_1 = 0x00010001;
/** Size of VDIHEADER1PLUS, the smallest header a 1.1 image has (what qemu writes as cbHeader). */
const MIN_HEADER_SIZE = 0x180;
const MAX_BLOCK_SIZE = 256 * 1024 * 1024;
/** VirtualBox caps disks below 2^32 blocks; vmxfer also keeps sizes exact in a double (2^53). */
const MAX_DISK_SIZE = Number.MAX_SAFE_INTEGER - (Number.MAX_SAFE_INTEGER % 512);

export const IMAGE_TYPE = { DYNAMIC: 1, STATIC: 2 } as const;

export async function readVdiHeader(file: RandomAccessFile): Promise<VdiHeader> {
  const h = await file.read(0, Math.min(VDI_HEADER_READ, file.size), 'VDI header');
  const fail = (def: (typeof VDI)[keyof typeof VDI], rule: string, offset: number) => vmxError(def, `${rule} (VirtualBox VDICore.h)`, { file: file.path, offset });
  if (h.length < 72 || h.readUInt32LE(64) !== VDI_SIGNATURE) throw fail(VDI.BAD_SIGNATURE, 'pre-header signature is not 0xbeda107f', 64);
  const version = h.readUInt32LE(68);
  if (version !== VERSION_1_1) throw fail(VDI.UNSUPPORTED_VERSION, `header version ${version >>> 16}.${version & 0xffff} is not 1.1`, 68);
  if (h.length < VDI_HEADER_READ) throw fail(VDI.BAD_HEADER_SIZE, `the file (${file.size} bytes) is shorter than a 512-byte VDI header`, 0);
  const headerSize = h.readUInt32LE(72);
  if (headerSize < MIN_HEADER_SIZE || 72 + headerSize > file.size) throw fail(VDI.BAD_HEADER_SIZE, `cbHeader ${headerSize} is below ${MIN_HEADER_SIZE} or runs past the end of the file`, 72);
  const header: VdiHeader = {
    version: '1.1',
    imageType: h.readUInt32LE(76),
    comment: h.toString('utf8', 84, 340).replace(/\0.*$/s, ''),
    blockMapOffset: h.readUInt32LE(340),
    dataOffset: h.readUInt32LE(344),
    sectorSize: h.readUInt32LE(360),
    diskSize: Number(h.readBigUInt64LE(368)),
    blockSize: h.readUInt32LE(376),
    blockExtra: h.readUInt32LE(380),
    blocks: h.readUInt32LE(384),
    blocksAllocated: h.readUInt32LE(388),
    uuid: h.subarray(392, 408).toString('hex'),
  };
  validate(header, headerSize, file, fail);
  refuseParent(h, fail);
  return header;
}

/**
 * uuidLinkage (424) names the parent image and uuidParentModify (440) its state when this one was
 * made (VDICore.h VDIHEADER1): either non-null makes this a differencing image, whose blocks are only
 * the changes to that parent. Read alone it would be a wrong disk; qemu's block/vdi.c refuses it too.
 */
function refuseParent(h: Buffer, fail: Fail): void {
  for (const [at, name] of [[424, 'uuidLinkage'], [440, 'uuidParentModify']] as const) {
    const uuid = h.subarray(at, at + 16);
    if (uuid.some((b) => b !== 0)) throw fail(VDI.DIFFERENCING, `${name} is ${uuid.toString('hex')}, not null: a differencing image whose parent vmxfer does not read`, at);
  }
}

type Fail = (def: (typeof VDI)[keyof typeof VDI], rule: string, offset: number) => Error;

function validate(h: VdiHeader, headerSize: number, file: RandomAccessFile, fail: Fail): void {
  if (h.imageType !== IMAGE_TYPE.DYNAMIC && h.imageType !== IMAGE_TYPE.STATIC) throw fail(VDI.UNSUPPORTED_IMAGE_TYPE, `image type ${h.imageType} is neither 1 (dynamic) nor 2 (static)`, 76);
  if (h.sectorSize !== 512) throw fail(VDI.BAD_SECTOR_SIZE, `sector size ${h.sectorSize} is not 512`, 360);
  if (h.blockSize < 512 || h.blockSize > MAX_BLOCK_SIZE || (h.blockSize & (h.blockSize - 1)) !== 0) throw fail(VDI.BAD_BLOCK_SIZE, `block size ${h.blockSize} is not a power of two in [512, 256 MiB]`, 376);
  if (h.blockExtra % 512 !== 0 || h.blockExtra > MAX_BLOCK_SIZE) throw fail(VDI.BAD_BLOCK_SIZE, `extra block data ${h.blockExtra} is not a multiple of 512 up to 256 MiB`, 380);
  if (h.diskSize === 0 || h.diskSize > MAX_DISK_SIZE || h.diskSize % 512 !== 0) throw fail(VDI.BAD_DISK_SIZE, `disk size ${h.diskSize} is zero, not a multiple of 512 or too large`, 368);
  if (h.blocks * h.blockSize < h.diskSize) throw fail(VDI.BAD_BLOCK_COUNT, `cBlocks ${h.blocks} of ${h.blockSize} bytes cannot hold the disk size ${h.diskSize}`, 384);
  if (h.blocksAllocated > h.blocks) throw fail(VDI.BAD_BLOCK_COUNT, `cBlocksAllocated ${h.blocksAllocated} exceeds cBlocks ${h.blocks}`, 388);
  const headerEnd = 72 + headerSize;
  const mapEnd = h.blockMapOffset + h.blocks * 4;
  if (h.blockMapOffset < headerEnd || h.blockMapOffset % 512 !== 0 || mapEnd > file.size) throw fail(VDI.BAD_OFFSETS, `block map at ${h.blockMapOffset} (${h.blocks * 4} bytes) is misaligned, overlaps the header or runs past the end of the file (size ${file.size})`, 340);
  if (h.dataOffset < mapEnd || h.dataOffset % 512 !== 0) throw fail(VDI.BAD_OFFSETS, `data offset ${h.dataOffset} is misaligned or overlaps the block map (ends at ${mapEnd})`, 344);
}
