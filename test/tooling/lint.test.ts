import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/tmp.js';

const ESLINT = join(REPO_ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js');

function lint(source: string, name: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [ESLINT, '--stdin', '--stdin-filename', name], { cwd: REPO_ROOT, input: source, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('the test command lints the whole tree with eslint.config.js before building', async () => {
  const runSh = await readFile(join(REPO_ROOT, 'test', 'run.sh'), 'utf8');
  const lintAt = runSh.search(/^npx eslint \.\s/m);
  assert.ok(lintAt >= 0 && lintAt < runSh.indexOf('npx tsc -p tsconfig.json'), 'test/run.sh runs `npx eslint .` before tsc');
});

test('eslint.config.js: typescript-eslint rules apply to agent/ code; its documented exceptions hold', { timeout: 60_000 }, () => {
  const unused = lint('export function f(a: number): number {\n  const b = 2;\n  return a;\n}\n', 'agent/lint-probe.ts');
  assert.equal(unused.status, 1, unused.out);
  assert.match(unused.out, /'b' is assigned a value but never used.*@typescript-eslint\/no-unused-vars/);
  const ok = lint('export function f(o: { a: number; b: number }, _x: unknown): unknown {\n  const { a: _a, ...rest } = o;\n  return rest;\n}\n', 'agent/lint-probe.ts');
  assert.equal(ok.status, 0, ok.out);
});
