import { defineErrorCodes } from '../core/errors.js';

/** Failures of the daemon's job service itself (the transfer's own errors keep their codes). */
export const JOB = defineErrorCodes('JOB', {
  BAD_TRANSITION: { category: 'internal', summary: 'A job was asked to move between two states the job state machine does not connect (a bug).' },
  DOWNLOAD_SIZE: { category: 'integrity', summary: 'A downloaded file does not have the size the object store reported for the object.' },
  DOWNLOAD_DIGEST: { category: 'integrity', summary: "The MD5 of a downloaded single-part object differs from the store's ETag for it." },
  DESTINATION_EXISTS: { category: 'usage', summary: 'A download would overwrite an existing local file; remove it or choose another path.' },
  CONFLICT: { category: 'remote', summary: 'A job record changed since the writer read it (its version moved on): the write is refused; read the record again and retry.' },
  DUPLICATE_ID: { category: 'internal', summary: 'A new job record has the id of one the job store already holds (a bug: ids are 128-bit UUIDv7).' },
  NOT_FOUND: { category: 'usage', summary: 'The job store holds no job with this id (the API answers API_NOT_FOUND).' },
  NOT_CANCELLABLE: { category: 'usage', summary: 'The job already finished, so it cannot be cancelled (the API answers API_NOT_CANCELLABLE).' },
  NOT_SYNC: { category: 'usage', summary: 'A cutover was asked of a job that is not a sync job, or of one that already finished (the API answers API_NOT_SYNC).' },
  NOT_ACCEPTING: { category: 'remote', summary: 'The job service is stopping and takes no new jobs (the API answers API_UNAVAILABLE).' },
  FENCED: { category: 'aborted', summary: "Another agent took the job over after this agent's lease on it ran out: this agent stopped it at once and writes nothing more for it." },
  SHUTDOWN: { category: 'aborted', summary: 'The daemon stopped while the job ran; it resumes from its checkpoint at the next start.' },
});
