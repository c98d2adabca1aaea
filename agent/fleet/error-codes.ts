import { defineErrorCodes } from '../core/errors.js';

/** Failures of the shared job store's server (job_store.url): environment failures, so I/O errors. */
export const FLEET = defineErrorCodes('FLEET', {
  STORE_UNREACHABLE: { category: 'io', summary: 'The shared job store (job_store.url) does not answer: the agent keeps reconnecting; check the server and the URL.' },
  STORE_URL: { category: 'usage', summary: 'job_store.url is not a redis:// or rediss:// URL the agent can connect to.' },
});
