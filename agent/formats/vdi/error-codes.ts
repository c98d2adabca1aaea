import { defineErrorCodes } from '../../core/errors.js';

/** VDI (VirtualBox) error codes, one per header or block-map rule a file can break. */
export const VDI = defineErrorCodes('VDI', {
  BAD_SIGNATURE: { category: 'invalid-input', summary: 'The VDI pre-header signature at offset 64 is not 0xbeda107f.' },
  UNSUPPORTED_VERSION: { category: 'unsupported', summary: 'The VDI header version is not 1.1.' },
  BAD_HEADER_SIZE: { category: 'invalid-input', summary: 'The VDI header size field is too small for a version 1.1 header or runs past the file.' },
  UNSUPPORTED_IMAGE_TYPE: { category: 'unsupported', summary: 'The VDI image type is not 1 (dynamic) or 2 (static); undo and differencing images are not read.' },
  BAD_SECTOR_SIZE: { category: 'invalid-input', summary: 'The VDI sector size is not 512.' },
  BAD_BLOCK_SIZE: { category: 'invalid-input', summary: 'The VDI block size is not a power of two between 512 bytes and 256 MiB, or the extra block data is misaligned.' },
  BAD_DISK_SIZE: { category: 'invalid-input', summary: 'The VDI disk size is zero, above the supported maximum, or larger than its blocks can hold.' },
  BAD_BLOCK_COUNT: { category: 'invalid-input', summary: 'The VDI block counts are inconsistent (allocated above total, or too few blocks for the disk size).' },
  BAD_OFFSETS: { category: 'invalid-input', summary: 'The VDI block map or data offset is misaligned, overlaps the header, or lies past the end of the file.' },
  DIFFERENCING: { category: 'unsupported', summary: 'The VDI header names a parent (non-null uuidLinkage or uuidParentModify): a differencing image, which qemu-img refuses too; convert the merged chain with VirtualBox first.' },
  BLOCK_PAST_EOF: { category: 'invalid-input', summary: 'A VDI block map entry points to a block beyond the allocated count or past the end of the file.' },
});
