import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root above the compiled test, where agent/ holds the TypeScript sources. */
async function repoRoot(): Promise<string> {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    if (await access(join(d, 'package.json')).then(() => true, () => false)) return d;
  }
  throw new Error('no package.json above the test');
}

test('agent/jobs/ imports nothing from agent/api/ (the HTTP edge depends on the job layer, not the reverse)', async () => {
  const dir = join(await repoRoot(), 'agent', 'jobs');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 10, `agent/jobs read from ${dir}`);
  const offenders: string[] = [];
  for (const f of files) {
    const text = await readFile(join(dir, f), 'utf8');
    for (const m of text.matchAll(/from '(\.\.\/api\/[^']+)'/g)) offenders.push(`${f}: ${m[1]}`);
  }
  assert.deepEqual(offenders, []);
});
