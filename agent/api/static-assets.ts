import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';

/** Where the dashboard build puts the page (this file runs from dist/agent/api/). */
export const DASHBOARD_DIR = resolve(import.meta.dirname, '..', '..', 'dashboard');

/** The dashboard is a few hundred KiB; a bigger file there is not one of its assets. */
const MAX_ASSET_BYTES = 4 * 1024 * 1024;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

export interface StaticAsset {
  body: Buffer;
  type: string;
}

/**
 * `GET /` and `GET /assets/*` (docs/api.md): files of the built dashboard, no data and no auth.
 * The URL path is resolved inside DASHBOARD_DIR (realpath), so `..` or a link cannot leave it.
 */
export async function readStaticAsset(urlPath: string, dir = DASHBOARD_DIR): Promise<StaticAsset | undefined> {
  const rel = urlPath === '/' ? 'index.html' : urlPath.startsWith('/assets/') ? urlPath.slice(1) : undefined;
  const type = rel && TYPES[extname(rel)];
  if (!rel || !type || rel.includes('\0')) return undefined;
  try {
    const root = await realpath(dir);
    const file = await realpath(join(root, decodeURIComponent(rel)));
    const inside = relative(root, file);
    if (inside.startsWith('..') || resolve(root, inside) !== file) return undefined;
    if ((await stat(file)).size > MAX_ASSET_BYTES) return undefined;
    return { body: await readFile(file), type };
  } catch {
    return undefined;
  }
}
