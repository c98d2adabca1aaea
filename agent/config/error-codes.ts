import { defineErrorCodes } from '../core/errors.js';

export const CONFIG = defineErrorCodes('CONFIG', {
  UNKNOWN_KEY: { category: 'usage', summary: 'The configuration names a key vmxfer does not know (a typo, or a key from another version).' },
  BAD_VALUE: { category: 'usage', summary: 'A configuration value has the wrong type or is out of range.' },
  UNREADABLE: { category: 'usage', summary: 'The configuration file cannot be read or is not valid YAML.' },
});
