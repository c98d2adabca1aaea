import { defineErrorCodes } from '../core/errors.js';

/** Codes of the guest inspector (agent/guest): what lies inside the virtual disk. */
export const GUEST = defineErrorCodes('GUEST', {
  PARTITION_TABLE: { category: 'invalid-input', summary: 'A partition table (MBR, extended-partition chain, GPT header or entries) breaks its specification.' },
  FILESYSTEM: { category: 'invalid-input', summary: 'A filesystem structure read for guest facts (superblock, inode, extent, directory, FAT) breaks its specification.' },
  SOURCE: { category: 'unsupported', summary: 'The disk cannot be read at random offsets within the configured memory bound (a streamed source larger than the guest cache).' },
});
