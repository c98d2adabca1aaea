import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';
import { QEMU_MISSING, qemuCompare } from '../helpers/qemu.js';

const pexec = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** A small raw disk with data in a few places and zeros between them (4 MiB). */
function smallDisk(): Buffer {
  const buf = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < 65536; i++) buf[i] = (i * 31 + 7) & 0xff;
  buf.fill('vmxfer packed install ', 3 * 1024 * 1024, 3 * 1024 * 1024 + 200_000);
  return buf;
}

test('package.json builds on prepack and ships only the runtime: dist/agent, dist/dashboard, no tests', async () => {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.match(pkg.scripts.prepack, /npm run build/);
  assert.match(pkg.scripts.build, /tsc -p tsconfig\.json/);
  const { stdout } = await pexec(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
  const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
  for (const need of ['bin/vmxfer.js', 'dist/agent/cli/main.js', 'dist/dashboard/index.html', 'LICENSE', 'native-wasm/crc64-slice16.wasm', 'native-wasm/deflate.wasm', 'native-wasm/libdeflate/COPYING', 'native/libdeflate/binding.gyp', 'scripts/build-native.mjs']) {
    assert.ok(files.includes(need), `${need} is in the package`);
  }
  const stray = files.filter((f) => /^(dist\/test|dist\/bench|test|bench|agent)\/|\.node$/.test(f));
  assert.deepEqual(stray, [], 'no tests, benches, TypeScript sources or prebuilt addons in the package');
  assert.match(await readFile(join(REPO_ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
});

// The tarball is packed with --ignore-scripts from the dist/ that test/run.sh just built: running the prepack
// build here would rewrite dist/ under the tests running beside this one. The test above checks prepack builds.
test('npm pack → npm install -g into a temporary prefix gives a working vmxfer: --version and a convert', { skip: QEMU_MISSING, timeout: 240_000 }, async () => {
  const { dir, cleanup } = await tempDir('vmxfer-packed-');
  try {
    const { stdout: packOut } = await pexec(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    const tarball = join(dir, JSON.parse(packOut)[0].filename);
    const prefix = join(dir, 'prefix');
    const install = await pexec(NPM, ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: dir, maxBuffer: 64 << 20 });
    // The optional addons' install step says, one line each, whether it built them or what vmxfer falls back to.
    const installLog = install.stdout + install.stderr;
    assert.match(installLog, /^native\/libdeflate (built|up to date|not built \(.+\); vmxfer will compress with libdeflate in WebAssembly)$/m);
    assert.match(installLog, /^native\/sparse-file (built|up to date|not built \(.+\); vmxfer will read the holes of raw images)$/m);

    const bin = join(prefix, 'bin', 'vmxfer');
    // Run outside the repository, with no path to its node_modules: only what the package installed.
    const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, HOME: dir };
    const version = await pexec(bin, ['--version'], { cwd: dir, env });
    assert.match(version.stdout, /^vmxfer \d+\.\d+\.\d+/);

    const raw = join(dir, 'disk.raw');
    await writeFile(raw, smallDisk());
    const out = join(dir, 'disk.qcow2');
    const conv = await pexec(bin, ['convert', raw, out, '--to', 'qcow2', '--json'], { cwd: dir, env, maxBuffer: 16 << 20 });
    const last = JSON.parse(conv.stdout.trim().split('\n').pop()!);
    assert.equal(last.type, 'result');
    assert.equal(last.target, 'qcow2');
    assert.equal(last.virtualSize, 4 * 1024 * 1024);
    await qemuCompare(raw, out);
  } finally {
    await cleanup();
  }
});
