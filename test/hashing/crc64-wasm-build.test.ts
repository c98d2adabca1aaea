import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KERNEL_FILES } from '../../agent/hashing/crc64-wasm.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

const pexec = promisify(execFile);
const NATIVE = join(REPO_ROOT, 'native-wasm');

async function hasToolchain(): Promise<boolean> {
  try {
    await pexec('bash', ['-c', 'command -v clang && command -v wasm-ld']);
    return true;
  } catch {
    return false;
  }
}

async function build(outDir: string): Promise<Map<string, Buffer>> {
  await pexec('bash', [join(NATIVE, 'build.sh'), outDir]);
  const files = new Map<string, Buffer>();
  for (const name of Object.values(KERNEL_FILES)) files.set(name, await readFile(join(outDir, name)));
  return files;
}

test('native-wasm/build.sh is reproducible and rebuilds the checked-in kernels byte for byte', async (t) => {
  if (!(await hasToolchain())) {
    t.skip('clang and wasm-ld are not installed (test/run.sh installs them through scripts/install-test-deps.sh): the rebuild check needs them');
    return;
  }
  const a = await tempDir('vmxfer-wasm-a-');
  const b = await tempDir('vmxfer-wasm-b-');
  try {
    const first = await build(a.dir);
    const second = await build(b.dir);
    for (const [name, bytes] of first) {
      assert.ok(bytes.equals(second.get(name)!), `${name}: two builds differ`);
      for (const path of [a.dir, NATIVE, REPO_ROOT]) assert.equal(bytes.includes(path), false, `${name} embeds the path ${path}`);
    }
    const recorded = (await readFile(join(NATIVE, 'TOOLCHAIN'), 'utf8')).trim();
    const current = (await pexec('clang', ['--version'])).stdout.split('\n')[0]!.trim();
    if (recorded !== current) {
      t.skip(`the checked-in kernels were built with "${recorded}", this machine has "${current}": byte comparison skipped`);
      return;
    }
    for (const [name, bytes] of first) assert.ok(bytes.equals(await readFile(join(NATIVE, name))), `${name} differs from the checked-in file`);
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});
