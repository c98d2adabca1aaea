import { defineErrorCodes } from '../core/errors.js';

/** Codes of the hashing module (checksums sent to or received from object stores). */
export const HASH = defineErrorCodes('HASH', {
  CHECKSUM_SYNTAX: {
    category: 'remote',
    summary: 'A CRC checksum text from an object store is not a valid OSS decimal or S3 base64 value.',
  },
  BAD_LENGTH: {
    category: 'internal',
    summary: 'A CRC combine was asked for a negative, fractional or out-of-range length (a bug).',
  },
  KERNEL_LOAD: {
    category: 'internal',
    summary: 'The CRC-64 WebAssembly kernel shipped with vmxfer is missing or does not have the expected exports.',
  },
});
