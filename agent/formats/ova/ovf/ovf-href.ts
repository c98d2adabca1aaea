import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';

/**
 * DSP0243 §7.1 allows any URI in ovf:href; vmxfer reads only relative names inside the package
 * (the OVA's members, or files beside a .ovf), so URLs, absolute paths and ".." are refused.
 */
export function safeHref(href: string, file: string): string {
  const refuse = (rule: string) => vmxError(OVA.BAD_HREF, `File href ${JSON.stringify(href.slice(0, 200))} ${rule}`, { file });
  let name = href.startsWith('file:') ? href.slice(5) : href;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(name)) throw refuse('is a URL; only files inside the package are read');
  while (name.startsWith('./')) name = name.slice(2);
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) throw refuse('is empty, absolute or contains a backslash or NUL');
  if (name.split('/').includes('..')) throw refuse('has a ".." component');
  try {
    return decodeURIComponent(name);
  } catch {
    throw refuse('has a malformed %-escape');
  }
}
