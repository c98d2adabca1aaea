import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../../core/abort.js';
import { fsError } from '../../io/random-access-file.js';
import type { ListedObject } from '../object-sink.js';

/**
 * The keys under a bucket directory that start with `prefix`, in S3's key order (UTF-8 byte
 * order, the order of JavaScript string comparison for the keys the sink accepts). The sink's own
 * state (`.vmxfer-*`) and atomic-write temporaries (`.NAME.RANDOM.tmp`) are not objects.
 */
export async function* walkObjects(root: string, prefix: string, signal?: AbortSignal): AsyncGenerator<Omit<ListedObject, 'etag'>> {
  yield* walk(root, '', prefix, signal);
}

async function* walk(root: string, dirKey: string, prefix: string, signal?: AbortSignal): AsyncGenerator<Omit<ListedObject, 'etag'>> {
  throwIfAborted(signal);
  const dir = dirKey === '' ? root : join(root, ...dirKey.split('/'));
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && dirKey !== '') return [];
    throw fsError(err, dir);
  });
  // A directory "a" sorts as "a/", so its keys come after "a-b" and before "a0".
  const named = entries
    .filter((e) => !isOwnFile(e.name) && (e.isFile() || e.isDirectory()))
    .map((e) => ({ e, key: `${dirKey}${e.name}${e.isDirectory() ? '/' : ''}` }))
    .filter(({ key }) => key.startsWith(prefix) || prefix.startsWith(key))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { e, key } of named) {
    if (e.isDirectory()) {
      yield* walk(root, key, prefix, signal);
      continue;
    }
    if (!key.startsWith(prefix)) continue;
    const path = join(dir, e.name);
    const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw fsError(err, path);
    });
    if (st?.isFile()) yield { key, size: st.size, lastModified: st.mtime };
  }
}

function isOwnFile(name: string): boolean {
  return name.startsWith('.vmxfer-') || /^\..+\.[0-9a-f]{12}\.tmp$/.test(name);
}
