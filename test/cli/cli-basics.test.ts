import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { EXIT_CODES } from '../../agent/core/errors.js';

test('no arguments prints usage and exits with the usage status', async () => {
  const r = await vmxfer([]);
  assert.equal(r.code, EXIT_CODES.usage);
  assert.match(r.stdout, /Usage: vmxfer COMMAND/);
});

test('--help lists every command and the exit codes', async () => {
  const r = await vmxfer(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['inspect', 'convert', 'errors']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  assert.match(r.stdout, /Exit codes/);
});

test('an unknown command and an unknown option are usage errors with code VMX_USAGE', async () => {
  const a = await vmxfer(['frobnicate']);
  assert.equal(a.code, EXIT_CODES.usage);
  assert.match(a.stderr, /unknown command "frobnicate".*|\[VMX_USAGE\]/s);
  const b = await vmxfer(['inspect', '--bogus', 'x']);
  assert.equal(b.code, EXIT_CODES.usage);
  assert.match(b.stderr, /\[VMX_USAGE\]/);
});

test('a missing input file is an I/O error naming the file', async () => {
  const r = await vmxfer(['inspect', '/nonexistent/disk.vmdk']);
  assert.equal(r.code, EXIT_CODES.io);
  assert.match(r.stderr, /\/nonexistent\/disk\.vmdk: file does not exist \[VMX_FILE_NOT_FOUND\]/);
});

test('an unsupported --to target is refused before anything is written', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'a.raw');
    await writeFile(src, Buffer.alloc(4096));
    const r = await vmxfer(['convert', src, join(dir, 'b.xyz'), '--to', 'xyz']);
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /\[VMX_UNSUPPORTED_TARGET\]/);
  } finally {
    await cleanup();
  }
});

test('inspect --json describes a raw file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'a.img');
    await writeFile(src, Buffer.alloc(1 << 20, 1));
    const r = await vmxfer(['inspect', src, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.format, 'raw');
    assert.equal(info.virtualSize, 1 << 20);
    assert.deepEqual(info.files, [src]);
  } finally {
    await cleanup();
  }
});

test('vmxfer errors --json lists codes with exit statuses', async () => {
  const r = await vmxfer(['errors', '--json']);
  assert.equal(r.code, 0);
  const codes = JSON.parse(r.stdout) as Array<{ code: string; exitCode: number }>;
  assert.ok(codes.some((c) => c.code === 'VMX_TRUNCATED' && c.exitCode === EXIT_CODES['invalid-input']));
});
