import { defineErrorCodes } from '../core/errors.js';

/** Failures of the daemon's job service itself (the transfer's own errors keep their codes). */
export const JOB = defineErrorCodes('JOB', {
  BAD_TRANSITION: { category: 'internal', summary: 'A job was asked to move between two states the job state machine does not connect (a bug).' },
  DOWNLOAD_SIZE: { category: 'integrity', summary: 'A downloaded file does not have the size the object store reported for the object.' },
  DOWNLOAD_DIGEST: { category: 'integrity', summary: "The MD5 of a downloaded single-part object differs from the store's ETag for it." },
  DESTINATION_EXISTS: { category: 'usage', summary: 'A download would overwrite an existing local file; remove it or choose another path.' },
  SHUTDOWN: { category: 'aborted', summary: 'The daemon stopped while the job ran; it resumes from its checkpoint at the next start.' },
});
