import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import { vmxError } from '../core/errors.js';
import { DASH } from './error-codes.js';

/** One file the daemon serves as is: its bytes and its Content-Type. */
export interface DashboardAsset {
  body: Buffer;
  type: string;
}

/** Where scripts/build-dashboard.mjs puts the page (this file runs from dist/agent/dashboard/). */
export const DASHBOARD_DIST = resolve(import.meta.dirname, '..', '..', 'dashboard');

/** The whole dashboard is a few hundred KiB; a bigger file there is not ours and is not read into memory. */
const MAX_ASSET_BYTES = 4 * 1024 * 1024;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

let cached: Map<string, DashboardAsset> | undefined;

/**
 * The dashboard's files keyed by the URL path the daemon serves them at: "/" is the page, every other
 * key starts with "/assets/". Read from dist/dashboard once and kept (the files only change on a build).
 */
export function dashboardAssets(dir: string = DASHBOARD_DIST): Map<string, DashboardAsset> {
  if (dir === DASHBOARD_DIST && cached) return cached;
  const assets = new Map<string, DashboardAsset>();
  assets.set('/', readAsset(join(dir, 'index.html')));
  const assetDir = join(dir, 'assets');
  for (const file of listFiles(assetDir)) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    const urlPath = '/assets/' + relative(assetDir, file).split(sep).join('/');
    assets.set(urlPath, readAsset(file));
  }
  if (dir === DASHBOARD_DIST) cached = assets;
  return assets;
}

function readAsset(file: string): DashboardAsset {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (cause) {
    throw vmxError(DASH.ASSETS_MISSING, 'the dashboard file is missing: build it with npm run build (scripts/build-dashboard.mjs)', { file, cause });
  }
  if (size > MAX_ASSET_BYTES) {
    throw vmxError(DASH.ASSET_TOO_LARGE, `the file is ${size} bytes; a dashboard asset may be at most ${MAX_ASSET_BYTES}`, { file });
  }
  return { body: readFileSync(file), type: TYPES[extname(file)] ?? 'application/octet-stream' };
}

function listFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (cause) {
    throw vmxError(DASH.ASSETS_MISSING, 'the dashboard assets folder is missing: build it with npm run build', { file: dir, cause });
  }
  return entries.flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}
