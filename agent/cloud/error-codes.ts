import { defineErrorCodes } from '../core/errors.js';

/** Codes of the cloud step (import, export, copy, share) and its preflight. */
export const CLOUD = defineErrorCodes('CLOUD', {
  PREFLIGHT_FAILED: { category: 'usage', summary: 'The preflight found inputs the cloud would reject; each finding names the cloud\'s own error code and what to do.' },
  API_ERROR: { category: 'remote', summary: 'The cloud API answered with a documented error code (named in the message).' },
  THROTTLED: { category: 'remote', summary: 'The cloud API kept throttling (RequestLimitExceeded / Throttling) through every retry.' },
  UNAVAILABLE: { category: 'remote', summary: 'The cloud API kept failing transiently (connection reset or refused, no answer within the request timeout, HTTP 5xx, InternalError / ServiceUnavailable) through every retry.' },
  TASK_FAILED: { category: 'remote', summary: 'An import, export or copy task ended in a failed or deleted state; its status message is in the error.' },
  TASK_TIMEOUT: { category: 'remote', summary: 'A cloud task did not reach a terminal state within the configured wait.' },
  BAD_RESPONSE: { category: 'remote', summary: 'A cloud API response lacked a field its documentation promises (task id, state).' },
  SHARE_LIMIT: { category: 'usage', summary: 'More accounts were given than an image may be shared with (ECS: 50).' },
  SHARE_REFUSED: { category: 'usage', summary: 'The share was refused before any call: an account id of the wrong shape, community publishing of an encrypted image, or community publishing asked of AWS.' },
  SHARE_FAILED: { category: 'remote', summary: 'The cloud refused the share for one or more accounts (or the community publishing); each account\'s outcome is reported.' },
  NO_CREDENTIALS: { category: 'usage', summary: 'No cloud credentials were found in any source the SDK\'s default chain tries (the message lists them).' },
  COPY_RULE: { category: 'usage', summary: 'A copy request breaks the documented encryption rules (KMSKeyId or EncryptAlgorithm without Encrypted).' },
});
