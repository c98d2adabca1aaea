#!/usr/bin/env node
// Builds vmxfer's optional native addons with node-gyp:
//   native/libdeflate   Node-API over the system libdeflate (grain compression, ~0.75x the CPU of the
//                       WebAssembly build native-wasm/deflate.wasm, which is the fallback and gives the same bytes)
//   native/sparse-file  lseek SEEK_DATA/SEEK_HOLE (skips a raw image's holes; fallback: read them)
// It must never fail an install or a test run: when a header, a C toolchain, Node's headers or node-gyp
// are missing, or a build fails, it prints one line per addon and exits 0, and vmxfer uses the fallback.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');

const ADDONS = [
  { dir: 'libdeflate', target: 'vmxfer_libdeflate', headers: ['libdeflate.h'], hint: 'apt-get install libdeflate-dev', fallback: 'vmxfer will compress with libdeflate in WebAssembly' },
  { dir: 'sparse-file', target: 'vmxfer_sparse_file', headers: [], hint: '', fallback: 'vmxfer will read the holes of raw images' },
];

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
function upToDate(addonDir, addon) {
  const built = join(addonDir, 'build', 'Release', `${addon.target}.node`);
  if (!existsSync(built)) return false;
  const t = statSync(built).mtimeMs;
  return [`${addon.target}.c`, 'binding.gyp'].every((f) => statSync(join(addonDir, f)).mtimeMs < t);
}

/** Why this addon cannot be built here, or undefined. */
function missingPrerequisite(addon) {
  const header = addon.headers.find((h) => !['/usr/include', '/usr/local/include'].some((d) => existsSync(join(d, h))));
  if (header) return `${header} not found: ${addon.hint}`;
  const tool = ['cc', 'c++', 'make', 'python3'].find((t) => !onPath(t));
  if (tool) return `${tool} not found`;
  if (!findNodeGyp()) return 'node-gyp not found';
  return undefined;
}

/** Builds one addon; returns the line to print. */
function build(addon) {
  const addonDir = join(nativeDir, addon.dir);
  const name = `native/${addon.dir}`;
  if (process.env.VMXFER_NO_NATIVE === '1') return `${name} not built (VMXFER_NO_NATIVE=1); ${addon.fallback}`;
  if (upToDate(addonDir, addon) && !process.argv.includes('--force')) return `${name} up to date`;
  const missing = missingPrerequisite(addon);
  if (missing) return `${name} not built (${missing}); ${addon.fallback}`;
  const r = spawnSync(process.execPath, [findNodeGyp(), 'rebuild', '--loglevel=error', ...nodeDirArgs()], { cwd: addonDir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    const lines = (r.stderr ?? '').trim().split('\n').filter(Boolean);
    const firstError = lines.find((l) => /error/i.test(l) && !l.startsWith('gyp ERR!')) ?? lines.pop() ?? `exit ${r.status}`;
    return `${name} not built (node-gyp rebuild failed: ${firstError.trim()}); ${addon.fallback}`;
  }
  return `${name} built`;
}

for (const addon of ADDONS) console.log(build(addon));
