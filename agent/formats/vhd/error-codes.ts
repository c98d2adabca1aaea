import { defineErrorCodes } from '../../core/errors.js';

/** Error codes of the VHD reader and writers (Microsoft "Virtual Hard Disk Image Format Specification" 1.0). */
export const VHD = defineErrorCodes('VHD', {
  BAD_COOKIE: { category: 'invalid-input', summary: 'A VHD structure lacks its cookie: "conectix" for the footer, "cxsparse" for the dynamic disk header.' },
  BAD_FOOTER_CHECKSUM: { category: 'integrity', summary: "The hard disk footer's checksum (one's complement of its byte sum) does not match." },
  FOOTER_COPY_MISMATCH: { category: 'integrity', summary: 'The footer copy at the start of a dynamic/differencing VHD differs from the footer at its end.' },
  BAD_HEADER_CHECKSUM: { category: 'integrity', summary: "The dynamic disk header's checksum (one's complement of its byte sum) does not match." },
  BAD_DISK_TYPE: { category: 'unsupported', summary: 'The footer names a disk type other than fixed (2), dynamic (3) or differencing (4).' },
  BAD_SIZE: { category: 'invalid-input', summary: "The footer's Current Size does not fit in 53 bits (no disk is that large)." },
  BAD_HEADER_OFFSET: { category: 'invalid-input', summary: "The footer's data offset does not point at a dynamic disk header inside the file." },
  BAD_BLOCK_SIZE: { category: 'invalid-input', summary: 'The dynamic disk block size is not a power of two between 512 bytes and 256 MiB.' },
  BAD_BAT: { category: 'invalid-input', summary: 'The Block Allocation Table is too small for the disk, too large, or lies outside the file.' },
  BAT_ENTRY_PAST_EOF: { category: 'invalid-input', summary: "A BAT entry points at a block that extends past the file's trailing footer." },
  BAT_ENTRY_OVERLAP: { category: 'invalid-input', summary: 'A BAT entry points at a block overlapping the footer copy, the dynamic header, the BAT or another block.' },
  FIXED_SIZE_MISMATCH: { category: 'invalid-input', summary: 'A fixed VHD declares more data than the file holds before its footer.' },
  PARENT_MISSING: { category: 'invalid-input', summary: 'A differencing VHD was opened without its parent, which it needs to be read (pass --parent).' },
  BAD_PARENT_LOCATOR: { category: 'invalid-input', summary: 'A parent locator entry is malformed or points outside the file.' },
  PARENT_ID_MISMATCH: { category: 'integrity', summary: "The parent's unique id differs from the one the differencing disk records." },
  CHAIN_LOOP: { category: 'invalid-input', summary: 'A differencing VHD chain refers back to one of its own files, or is absurdly deep.' },
  TOO_LARGE: { category: 'unsupported', summary: 'The disk is larger than a VHD can describe (2040 GiB).' },
});
