/** Fixed positions and sizes of [MS-VHDX] §2.1 (layout) and §2.2 (header section). */
export const KiB = 1024;
export const MiB = 1024 * KiB;

/** §2.2.1 File Type Identifier at offset 0: "vhdxfile" then a UTF-16 creator string. */
export const FILE_ID_SIGNATURE = 'vhdxfile';
/** §2.2.2 two headers, each in its own 64 KiB block; CRC-32C covers the first 4 KiB. */
export const HEADER_OFFSETS = [64 * KiB, 128 * KiB] as const;
export const HEADER_SIZE = 4 * KiB;
/** §2.2.3 two region table copies of 64 KiB. */
export const REGION_TABLE_OFFSETS = [192 * KiB, 256 * KiB] as const;
export const REGION_TABLE_SIZE = 64 * KiB;
/** The header section occupies the first 1 MiB; nothing else may live there (§2.1). */
export const HEADER_SECTION_SIZE = 1 * MiB;
/** §2.6.2.2: the virtual disk size is at most 64 TiB. */
export const MAX_VIRTUAL_SIZE = 64 * 1024 * 1024 * MiB;
/** §2.5: each sector bitmap block is 1 MiB and covers 2^23 sectors. */
export const SECTOR_BITMAP_BLOCK_SIZE = 1 * MiB;
export const SECTORS_PER_BITMAP_BLOCK = 2 ** 23;
/** §2.3: the log is made of 4 KiB sectors. */
export const LOG_SECTOR_SIZE = 4 * KiB;
/** vmxfer's bound on a log replayed in memory (Hyper-V and qemu write 1 MiB logs). */
export const MAX_REPLAYED_LOG = 64 * MiB;
