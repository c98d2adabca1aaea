import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';

/**
 * A member name made safe to compare with OVF hrefs: a leading "./" is dropped (GNU tar writes
 * it for `tar -C dir .`); absolute names, ".." components, NUL, backslashes and empty names are
 * refused, since a name that could climb out of a directory has no place in an OVA.
 */
export function safeMemberName(raw: string, where: { file: string; offset: number }): string {
  let name = raw;
  while (name.startsWith('./')) name = name.slice(2);
  const refuse = (rule: string) => vmxError(OVA.TAR_UNSAFE_PATH, `member name ${JSON.stringify(raw.slice(0, 200))} ${rule}`, where);
  if (name.length === 0) throw refuse('is empty');
  if (name.startsWith('/')) throw refuse('is an absolute path');
  if (/^[A-Za-z]:/.test(name)) throw refuse('starts with a drive letter');
  if (name.includes('\0')) throw refuse('contains NUL');
  if (name.includes('\\')) throw refuse('contains a backslash');
  if (name.split('/').includes('..')) throw refuse('has a ".." component');
  return name.replace(/\/+$/, '');
}
