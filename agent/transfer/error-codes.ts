import { defineErrorCodes } from '../core/errors.js';

export const TRANSFER = defineErrorCodes('XFER', {
  TOO_LARGE: { category: 'usage', summary: 'The object would need more parts than the store allows even at its largest part size.' },
  PART_SIZE: { category: 'usage', summary: 'The requested part size is outside the store\'s limits or vmxfer\'s (at most 2047 MiB), or too small for the image.' },
  RESUME_MISMATCH: { category: 'integrity', summary: 'A resume was refused: the source, destination or options differ from the checkpoint.' },
  RESUME_ENCODER: { category: 'unsupported', summary: 'A resume was refused: this machine cannot regenerate the parts with the encoder the checkpoint recorded (writer version, compressor or level); the message names what is missing.' },
  CHECKPOINT_EXISTS: { category: 'usage', summary: 'An upload was started without --resume over the checkpoint of an interrupted one: continue it with --resume, abort it with --cancel, or abandon it with --restart.' },
  NO_CHECKPOINT: { category: 'usage', summary: '--resume was given but no checkpoint exists for this source and destination.' },
  VERIFY_FAILED: { category: 'integrity', summary: 'The finished object\'s checksum differs from the one computed locally; the job failed.' },
  PART_MISSING: { category: 'integrity', summary: 'The store does not confirm every part 1..N, so the upload was not completed.' },
  CHECKPOINT_CORRUPT: { category: 'invalid-input', summary: 'A checkpoint file is not valid JSON of the expected shape.' },
  TAGS: { category: 'usage', summary: 'The --tag values use a key vmxfer reserves (vmxfer-*) or would not fit beside its SHA-256 tags in the 10 tags S3 and OSS allow per object.' },
  SHA256_MISMATCH: { category: 'integrity', summary: 'The object\'s bytes (or, with verify --source, the source\'s content) differ from the digest tag (vmxfer-digest, vmxfer-sha256 or the source tag) recorded when it was uploaded.' },
  RETRIES_EXHAUSTED: { category: 'remote', summary: 'A transient store error persisted through every retry.' },
});
