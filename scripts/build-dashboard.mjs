// Builds the dashboard: compiles agent/dashboard/client (browser TypeScript, tsconfig.dashboard.json) to
// dist/dashboard/assets and copies the static page and stylesheet beside it. No bundler, no CDN.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'dist', 'dashboard');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.dashboard.json')], { stdio: 'inherit' });
mkdirSync(join(out, 'assets'), { recursive: true });
copyFileSync(join(root, 'agent', 'dashboard', 'static', 'index.html'), join(out, 'index.html'));
copyFileSync(join(root, 'agent', 'dashboard', 'static', 'styles.css'), join(out, 'assets', 'styles.css'));
