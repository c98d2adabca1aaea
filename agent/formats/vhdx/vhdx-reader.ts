import { realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { vmxError } from '../../core/errors.js';
import { ChainedDisk } from '../../disk/chain.js';
import type { DiskSource } from '../../disk/disk-source.js';
import { fileExists } from '../../io/random-access-file.js';
import type { FormatReader, OpenOptions } from '../format-reader.js';
import { VHDX } from './error-codes.js';
import { FILE_ID_SIGNATURE } from './layout.js';
import { normaliseGuidText, type ParentLocator } from './parent-locator.js';
import { openVhdxFile } from './vhdx-open.js';

export const vhdxReader: FormatReader = {
  name: 'vhdx',
  probe: (input) => input.head.length >= 8 && input.head.toString('latin1', 0, 8) === FILE_ID_SIGNATURE,
  open: (path, opts) => openChain(path, opts, []),
};

/** Opens a VHDX and, for a differencing one, its parents (merged with ChainedDisk). `chain` holds the real paths above. */
async function openChain(path: string, opts: OpenOptions, chain: string[]): Promise<DiskSource> {
  const real = await realpath(path).catch(() => resolve(path));
  if (chain.includes(real)) {
    throw vmxError(VHDX.PARENT_LOOP, `differencing chain loops back to this file (chain: ${[...chain, real].join(' -> ')}) (MS-VHDX §2.6.2.6)`, { file: path });
  }
  const opened = await openVhdxFile(path, opts.signal);
  if (!opened.parentLocator) return opened.disk;
  try {
    const parentPath = await findParent(path, opened.parentLocator, chain.length === 0 ? opts.parent : undefined);
    const parent = await openChain(parentPath, { signal: opts.signal }, [...chain, real]);
    checkLinkage(path, opened.parentLocator, parent);
    return new ChainedDisk(opened.disk, parent);
  } catch (err) {
    await opened.disk.close();
    throw err;
  }
}

/**
 * §2.6.2.6.1: relative_path is relative to the child's directory; volume_path and absolute_win32_path
 * are Windows paths, which on this machine can only be found by their file name beside the child.
 * An explicit --parent (OpenOptions.parent) wins over all of them.
 */
async function findParent(child: string, locator: ParentLocator, explicit: string | undefined): Promise<string> {
  const candidates = explicit ? [explicit] : locatorCandidates(child, locator);
  for (const c of candidates) if (await fileExists(c)) return c;
  throw vmxError(VHDX.PARENT_NOT_FOUND, `parent not found; tried ${candidates.join(', ') || 'no path (the locator has none)'} (MS-VHDX §2.6.2.6.1)`, { file: child });
}

function locatorCandidates(child: string, locator: ParentLocator): string[] {
  const dir = dirname(child);
  const out: string[] = [];
  const rel = locator.get('relative_path');
  if (rel) out.push(resolve(dir, rel.replace(/\\/g, '/')));
  for (const key of ['volume_path', 'absolute_win32_path']) {
    const p = locator.get(key);
    if (p) out.push(resolve(dir, basename(p.replace(/\\/g, '/'))));
  }
  return [...new Set(out)];
}

/** §2.6.2.6.1: parent_linkage (or parent_linkage2) is the parent's DataWriteGuid. */
function checkLinkage(child: string, locator: ParentLocator, parent: DiskSource): void {
  const parentGuid = parent.info.details?.['dataWriteGuid'];
  const linkages = ['parent_linkage', 'parent_linkage2'].map((k) => locator.get(k)).filter((v): v is string => v !== undefined).map(normaliseGuidText);
  if (typeof parentGuid !== 'string' || !linkages.includes(parentGuid)) {
    throw vmxError(VHDX.PARENT_MISMATCH, `parent ${parent.info.files[0]} has DataWriteGuid ${String(parentGuid)}, not the parent_linkage ${linkages.join(' or ')} (MS-VHDX §2.6.2.6.1)`, {
      file: child,
    });
  }
}
