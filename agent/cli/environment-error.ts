import { CORE } from '../core/error-codes.js';
import { vmxError, type VmxferError } from '../core/errors.js';

/** What the operating system refused, in the operator's words; each is the machine's state, not a bug. */
const SENTENCES: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process listens on it)',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files (raise the limit with ulimit -n)',
  ENFILE: 'too many open files in the system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOMEM: 'out of memory',
  EIO: 'input/output error from the device',
};

/** A Node system error (errno code) as a typed I/O error naming the path or address; undefined otherwise. */
export function environmentError(err: unknown): VmxferError | undefined {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (!e || typeof e.code !== 'string' || !(e.code in SENTENCES)) return undefined;
  const where = e.path ?? (e.address !== undefined ? `${e.address}${e.port !== undefined ? `:${e.port}` : ''}` : undefined);
  const def = e.code === 'ENOENT' ? CORE.FILE_NOT_FOUND : CORE.IO;
  return vmxError(def, `${e.syscall ? `${e.syscall}: ` : ''}${SENTENCES[e.code]} (${e.code})`, { file: where, cause: err });
}
