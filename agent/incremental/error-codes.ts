import { defineErrorCodes } from '../core/errors.js';

/** Incremental uploads (docs/warm-migration.md). */
export const INCR = defineErrorCodes('INCR', {
  LAYOUT: {
    category: 'unsupported',
    summary: 'An incremental upload needs an output whose bytes sit at fixed disk offsets (raw, vhd-fixed, or original of a raw/flat file); formats whose layout moves with the content (stream-optimized VMDK, dynamic VHD, qcow2, ...) would change every part.',
  },
  NO_PART_COPY: { category: 'unsupported', summary: 'The destination store cannot copy parts server-side (no UploadPartCopy), which an incremental upload needs.' },
  CHANGED_BLOCKS: { category: 'invalid-input', summary: 'A --changed-blocks list (or a file given to `vmxfer changed-blocks`) is not the documented JSON extent list: bad JSON, shape, or an extent outside the disk; the message names the file and the entry.' },
  CHANGED_MISMATCH: {
    category: 'invalid-input',
    summary: 'A --changed-blocks list does not describe this source and object: its virtual size differs from the source or from the size the manifest recorded, so the parts it calls unchanged cannot be copied safely.',
  },
  BITMAP_IN_USE: { category: 'invalid-input', summary: 'The qcow2 dirty bitmap named by --changed-since is marked in use: the image was not closed cleanly, so the bitmap may miss writes.' },
  BITMAP_INVALID: {
    category: 'invalid-input',
    summary: 'The qcow2 bitmaps extension, bitmap directory or bitmap table (qcow2.txt "Bitmaps extension") is inconsistent, names no such bitmap, or holds one vmxfer must not use (not a dirty-tracking bitmap, unknown extra data); the message names the field and offset.',
  },
  MANIFEST_CORRUPT: { category: 'invalid-input', summary: 'The object\'s .vmxfer-manifest is not a manifest vmxfer wrote (bad JSON, shape or size); the message names the field.' },
});
