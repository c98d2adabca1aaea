import { defineErrorCodes } from '../core/errors.js';

/** Failures of starting the daemon itself. */
export const DAEMON = defineErrorCodes('DAEMON', {
  STATE_DIR_IN_USE: { category: 'usage', summary: "Another running daemon holds the state directory's lock: two daemons on one state_dir would run the same jobs twice." },
});
