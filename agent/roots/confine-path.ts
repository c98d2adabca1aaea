import { realpath, lstat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseObjectUrl } from '../sinks/object-url.js';
import { ROOTS } from './error-codes.js';
import { fieldError } from '../core/field-error.js';

/** Which roots a path was checked against: the message names them. */
export type RootKind = 'source' | 'output';

/**
 * Jobs read only below the source roots and write only below the output roots. Both the path and the
 * roots are resolved with realpath, so a symlink inside a root that points outside it is refused like
 * the outside path itself; the resolved path is what the job then uses, so a link swapped later cannot
 * redirect it.
 */
export async function confineExisting(path: string, roots: readonly string[], field: string): Promise<string> {
  if (!isAbsolute(path)) throw fieldError(ROOTS.BAD_REQUEST, field, `"${path}" must be an absolute path`);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw fieldError(ROOTS.BAD_REQUEST, field, `"${path}" does not exist or cannot be resolved`);
  }
  await requireInside(real, roots, field, path, 'source');
  return real;
}

/** A file to be created (a download, an export): its directory must resolve inside an output root and the name must be free. */
export async function confineNew(path: string, roots: readonly string[], field: string): Promise<string> {
  if (!isAbsolute(path) || path.endsWith('/')) throw fieldError(ROOTS.BAD_REQUEST, field, `"${path}" must be an absolute file path`);
  let dir: string;
  try {
    dir = await realpath(dirname(path));
  } catch {
    throw fieldError(ROOTS.BAD_REQUEST, field, `the directory of "${path}" does not exist`);
  }
  const target = join(dir, basename(path));
  await requireInside(target, roots, field, path, 'output');
  const exists = await lstat(target).then(() => true, () => false);
  if (exists) throw fieldError(ROOTS.BAD_REQUEST, field, `"${path}" already exists; a download never overwrites a file`);
  return target;
}

/**
 * A file the job writes that may exist already (a conversion's file:// object, a restarted job's
 * destination): resolved through its deepest existing ancestor (directories the job will create have no
 * links to follow), a symlink at the file itself followed, and the result confined to the output roots.
 * Everything written beside it (.vmxfer-uploads, .vmxfer-meta, partial files) shares its directory.
 */
export async function confineOutput(path: string, roots: readonly string[], field: string): Promise<string> {
  if (!isAbsolute(path) || path.endsWith('/')) throw fieldError(ROOTS.BAD_REQUEST, field, `"${path}" must be an absolute file path`);
  const target = await resolveForWrite(path, field);
  await requireInside(target, roots, field, path, 'output');
  return target;
}

async function resolveForWrite(path: string, field: string): Promise<string> {
  const st = await lstat(path).catch(() => undefined);
  if (st) {
    try {
      return await realpath(path);
    } catch {
      throw fieldError(ROOTS.BAD_REQUEST, field, `"${path}" is a symlink that resolves nowhere`);
    }
  }
  const parent = dirname(path);
  if (parent === path) return path;
  return join(await resolveForWrite(parent, field), basename(path));
}

async function requireInside(real: string, roots: readonly string[], field: string, given: string, kind: RootKind): Promise<void> {
  for (const root of roots) {
    const r = await realpath(root).catch(() => undefined);
    if (r === undefined) continue;
    const rel = relative(r, real);
    if (rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel))) return;
  }
  throw fieldError(ROOTS.OUTSIDE_ROOTS, field, `"${given}" resolves to ${real}, outside the configured ${kind} roots (${kind}_roots)`);
}

/** A file:// destination (a conversion, or an upload to a directory store): its resolved path, confined to the output roots. */
export async function confineFileUrl(url: string, roots: readonly string[], field: string): Promise<string> {
  const { bucket, key } = parseObjectUrl(url);
  return pathToFileURL(await confineOutput(join(bucket, key), roots, field)).href;
}
