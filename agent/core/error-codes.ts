import { defineErrorCodes } from './errors.js';

/** Codes that belong to no single format: usage, generic I/O, aborts. */
export const CORE = defineErrorCodes('VMX', {
  USAGE: { category: 'usage', summary: 'The command line or request is malformed (unknown option, missing argument, bad value).' },
  UNKNOWN_FORMAT: { category: 'unsupported', summary: 'The input matches no disk image format vmxfer reads.' },
  UNSUPPORTED_TARGET: { category: 'usage', summary: 'The requested output format is not one vmxfer writes.' },
  FILE_NOT_FOUND: { category: 'io', summary: 'A file named on the command line or in image metadata does not exist.' },
  IO: { category: 'io', summary: 'A read or write failed at the operating-system level.' },
  TRUNCATED: { category: 'invalid-input', summary: 'A structure extends past the end of the file.' },
  SOURCE_EXTENTS: { category: 'internal', summary: 'A disk reader yielded an extent out of order, empty, mis-sized or past its virtual size (a reader bug).' },
  ABORTED: { category: 'aborted', summary: 'The operation was cancelled (signal, Ctrl-C or API cancel).' },
  INTERNAL: { category: 'internal', summary: 'An unexpected internal failure (a bug): report it with the message.' },
});
