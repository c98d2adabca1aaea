import { defineErrorCodes } from '../../core/errors.js';

/** Codes of the stream-optimized VMDK writer (family VMDKW; the VMDK readers own family VMDK). */
export const VMDKW = defineErrorCodes('VMDKW', {
  BAD_OPTION: {
    category: 'usage',
    summary: 'A stream-optimized VMDK writer option is out of range (compression level, adapter type, hardware version, batch size).',
  },
  ZERO_CAPACITY: {
    category: 'unsupported',
    summary: 'A disk of zero bytes cannot be written as a stream-optimized VMDK (capacity 0 marks a descriptor-only file).',
  },
  CAPACITY_TOO_LARGE: {
    category: 'unsupported',
    summary: "The disk is larger than the writer's configured maximum capacity (which bounds the in-memory grain directory).",
  },
  OUTPUT_TOO_LARGE: {
    category: 'unsupported',
    summary: 'The output would place a grain or table beyond sector 2^32-1, which 32-bit grain table entries cannot address.',
  },
});
