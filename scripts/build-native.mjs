#!/usr/bin/env node
// Builds the optional native addon native/libdeflate (Node-API over the system libdeflate) with node-gyp.
// It must never fail an install or a test run: when libdeflate's headers, a C toolchain, Node's headers
// or node-gyp are missing, or the build fails, it prints one line and exits 0, and vmxfer uses node:zlib.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const addonDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'libdeflate');

function skip(why) {
  console.log(`native/libdeflate not built (${why}); vmxfer will compress with node:zlib`);
  process.exit(0);
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** npm sets npm_config_node_gyp in lifecycle scripts; otherwise use the node-gyp bundled with npm. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

/** Node's own headers next to this node binary (Debian: /usr, official tarballs: their prefix), so no download is needed. */
function nodeDirArgs() {
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** The built addon is newer than its sources: nothing to do (test/run.sh calls this on every run). */
function upToDate() {
  const built = join(addonDir, 'build', 'Release', 'vmxfer_libdeflate.node');
  if (!existsSync(built)) return false;
  const t = statSync(built).mtimeMs;
  return ['vmxfer_libdeflate.c', 'binding.gyp'].every((f) => statSync(join(addonDir, f)).mtimeMs < t);
}

if (process.env.VMXFER_NO_NATIVE === '1') skip('VMXFER_NO_NATIVE=1');
if (upToDate() && !process.argv.includes('--force')) {
  console.log('native/libdeflate up to date');
  process.exit(0);
}
if (!['/usr/include/libdeflate.h', '/usr/local/include/libdeflate.h'].some((p) => existsSync(p))) skip('libdeflate.h not found: apt-get install libdeflate-dev');
const missingTool = ['cc', 'c++', 'make', 'python3'].find((t) => !onPath(t));
if (missingTool) skip(`${missingTool} not found`);
const nodeGyp = findNodeGyp();
if (!nodeGyp) skip('node-gyp not found');
const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--loglevel=error', ...nodeDirArgs()], { cwd: addonDir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const lines = (r.stderr ?? '').trim().split('\n').filter(Boolean);
  const firstError = lines.find((l) => /error/i.test(l) && !l.startsWith('gyp ERR!')) ?? lines.pop() ?? `exit ${r.status}`;
  skip(`node-gyp rebuild failed: ${firstError.trim()}`);
}
console.log('native/libdeflate built');
