import { defineErrorCodes } from '../core/errors.js';

/**
 * The API's codes for a path a job may not use. They are defined here, not in api/, because the job
 * runner checks the roots again when a job starts; api/error-codes.ts lists them in API.
 */
export const ROOTS = defineErrorCodes('API', {
  BAD_REQUEST: { category: 'usage', summary: 'The request body is not valid JSON or a field breaks the API contract; `field` names it (HTTP 400).' },
  OUTSIDE_ROOTS: { category: 'usage', summary: 'A path a job reads resolves (symlinks followed) outside every source root, or a path it writes outside every output root (HTTP 400 at submit; the job fails with it when the check at its start fails).' },
});
