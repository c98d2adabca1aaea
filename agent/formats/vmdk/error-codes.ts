import { defineErrorCodes } from '../../core/errors.js';

/** Every way a VMDK image can be refused; codes are permanent (README error table). */
export const VMDK = defineErrorCodes('VMDK', {
  TRUNCATED: { category: 'invalid-input', summary: 'A VMDK file ends before a structure it must contain (header, table, grain, footer).' },
  BAD_MAGIC: { category: 'invalid-input', summary: 'A sparse extent does not start with the "KDMV" magic number.' },
  UNSUPPORTED_VERSION: { category: 'unsupported', summary: 'The sparse extent header version is not 1, 2 or 3.' },
  NEWLINE_TEST_FAILED: { category: 'integrity', summary: 'The header\'s newline-detection bytes are altered (the file went through a text-mode transfer).' },
  CAPACITY_TOO_LARGE: { category: 'unsupported', summary: 'The sparse extent capacity is over 2^50 bytes.' },
  BAD_GRAIN_SIZE: { category: 'invalid-input', summary: 'The grain size is not a power of two between 1 and 2048 sectors (1 MiB).' },
  BAD_GT_SIZE: { category: 'invalid-input', summary: 'numGTEsPerGT is outside 1..512.' },
  UNSUPPORTED_COMPRESSION: { category: 'unsupported', summary: 'The compression algorithm is not deflate, or the flags and the algorithm disagree.' },
  BAD_FOOTER: { category: 'invalid-input', summary: 'A stream-optimized extent says its grain directory is at the end, but the footer there is missing or invalid.' },
  GD_OUT_OF_BOUNDS: { category: 'invalid-input', summary: 'The grain directory lies past the end of the file or over the header or descriptor.' },
  GT_OUT_OF_BOUNDS: { category: 'invalid-input', summary: 'A grain table lies past the end of the file or over the header or descriptor.' },
  GRAIN_OUT_OF_BOUNDS: { category: 'invalid-input', summary: 'A grain lies past the end of the file or inside the header or metadata.' },
  BAD_GRAIN_MARKER: { category: 'invalid-input', summary: 'A compressed grain\'s marker names another LBA or a compressed size beyond the bound for its grain size.' },
  CORRUPT_DEFLATE: { category: 'integrity', summary: 'A compressed grain is not a valid zlib/deflate stream.' },
  GRAIN_LENGTH: { category: 'integrity', summary: 'A compressed grain inflates to a length other than its grain\'s size.' },
  BAD_MARKER: { category: 'invalid-input', summary: 'A stream-optimized marker has an unknown type or an impossible metadata size.' },
  GRAIN_OUT_OF_ORDER: { category: 'unsupported', summary: 'A stream-optimized grain comes before an earlier LBA; streaming reads need ascending LBAs.' },
  MISSING_EOS: { category: 'invalid-input', summary: 'A stream-optimized extent ends without its end-of-stream marker.' },
  MALFORMED_DESCRIPTOR: { category: 'invalid-input', summary: 'The text descriptor is malformed (bad line, bad number, missing field, too large).' },
  UNSUPPORTED_EXTENT: { category: 'unsupported', summary: 'The descriptor names an extent type vmxfer does not read (VMFSSPARSE, VMFSRDM, VMFSRAW, SESPARSE, NOACCESS).' },
  MISSING_EXTENT_FILE: { category: 'io', summary: 'An extent file named by the descriptor does not exist.' },
  EXTENT_TOO_SMALL: { category: 'invalid-input', summary: 'An extent file holds fewer sectors than its descriptor line says.' },
  PARENT_LOOP: { category: 'invalid-input', summary: 'The delta-disk chain leads back to a disk already in it (or is deeper than 64 links).' },
  MISSING_PARENT: { category: 'io', summary: 'A delta disk\'s parent (parentFileNameHint or --parent) cannot be found.' },
});
