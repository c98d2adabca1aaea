import { defineErrorCodes } from '../core/errors.js';
import { ROOTS } from '../roots/error-codes.js';

/** Errors of the daemon's HTTP API (docs/api.md); each maps to one HTTP status in api/http-status.ts. */
export const API = {
  ...defineErrorCodes('API', {
    UNAUTHORIZED: { category: 'usage', summary: 'The request carries no bearer token or a wrong one (HTTP 401).' },
  }),
  BAD_REQUEST: ROOTS.BAD_REQUEST,
  ...defineErrorCodes('API', {
    NOT_FOUND: { category: 'usage', summary: 'No such job or endpoint (HTTP 404).' },
    METHOD_NOT_ALLOWED: { category: 'usage', summary: 'The endpoint exists but not for this HTTP method (HTTP 405).' },
    BODY_TOO_LARGE: { category: 'usage', summary: 'The request body is larger than the API accepts (HTTP 413).' },
  }),
  OUTSIDE_ROOTS: ROOTS.OUTSIDE_ROOTS,
  ...defineErrorCodes('API', {
    NOT_A_FILE: { category: 'usage', summary: 'A job source (or options.parent) is not a regular file or block device: a FIFO, socket, character device or directory (HTTP 400).' },
    WEAK_TOKEN: { category: 'usage', summary: 'The API token (auth.token_file, VMXFER_TOKEN or <state_dir>/token) is shorter than 16 characters or holds whitespace.' },
    NOT_SYNC: { category: 'usage', summary: 'A cutover was asked of a job that is not a sync job, or of one that already finished (HTTP 409).' },
    NOT_CANCELLABLE: { category: 'usage', summary: 'The job already finished, so it cannot be cancelled (HTTP 409).' },
    UNAVAILABLE: { category: 'remote', summary: 'The daemon is starting or stopping and takes no new jobs (HTTP 503).' },
    TOKEN_FILE: { category: 'usage', summary: 'The configured token file cannot be read or holds no token.' },
    TLS_FILES: { category: 'usage', summary: 'The TLS certificate or key file cannot be read or does not form a valid pair.' },
    DAEMON_UNREACHABLE: { category: 'remote', summary: 'The jobs client cannot reach the daemon at the configured address, or it answered with something other than the API.' },
  }),
};
