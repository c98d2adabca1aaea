import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'vmxfer-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Repository root (tests run from dist/test/...). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** A cache for built fixtures shared by test files of one run (ignored by git). */
export async function fixtureCacheDir(): Promise<string> {
  const dir = join(REPO_ROOT, '.tmp', 'fixtures');
  await mkdir(dir, { recursive: true });
  return dir;
}

export const SHARED_FIXTURES = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'images');
