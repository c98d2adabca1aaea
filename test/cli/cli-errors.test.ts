import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeFile, mkdir, chmod, lstat } from 'node:fs/promises';
import { collectOutput, run, vmxfer } from '../helpers/run-command.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';
import { EXIT_CODES } from '../../agent/core/errors.js';

test('a usage error is one line with its code and where help is, not the help text', async () => {
  const r = await vmxfer(['upload', 'only-one-arg']);
  assert.equal(r.code, EXIT_CODES.usage);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^vmxfer: UsageError: expected SRC URL, got 1 argument\(s\) \[VMX_USAGE\]; see vmxfer upload --help\n$/);
  assert.equal(r.stdout, '');
});

test('a mistyped flag and a mistyped command are answered with "did you mean"', async () => {
  const flag = await vmxfer(['upload', '--bwlimt', '5MiB', 'a', 'file:///tmp/b']);
  assert.equal(flag.code, EXIT_CODES.usage);
  assert.match(flag.stderr, /Unknown option '--bwlimt'; did you mean --bwlimit\? \[VMX_USAGE\]; see vmxfer upload --help\n$/);
  const cmd = await vmxfer(['uplaod', 'a', 'b']);
  assert.equal(cmd.code, EXIT_CODES.usage);
  assert.match(cmd.stderr, /unknown command "uplaod"; did you mean "upload"\? \[VMX_USAGE\]; see vmxfer --help\n$/);
  const far = await vmxfer(['inspect', '--zzzzzz', 'x']);
  assert.doesNotMatch(far.stderr, /did you mean/);
});

test('vmxfer help CMD and CMD --help print the same help; -V and --version name version, commit, Node and SDKs', async () => {
  const a = await vmxfer(['help', 'upload']);
  const b = await vmxfer(['upload', '--help']);
  assert.equal(a.code, 0);
  assert.equal(a.stdout, b.stdout);
  assert.match(a.stdout, /^Usage: vmxfer upload SRC URL/);
  for (const flag of ['-V', '--version']) {
    const v = await vmxfer([flag]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^vmxfer \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}|unknown\)/);
    assert.match(v.stdout, new RegExp(`^node ${process.versions.node.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(v.stdout, /^@aws-sdk\/client-s3 \d+\.\d+\.\d+$/m);
    assert.match(v.stdout, /^ali-oss \d+\.\d+\.\d+$/m);
  }
});

test('stdout closed early (vmxfer errors | head -1) ends quietly with status 0', async () => {
  const r = await collectOutput(spawn('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" bin/vmxfer.js errors | head -1`], { cwd: REPO_ROOT }));
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 1);
});

test('a busy port is an I/O error (exit 5) naming the address, not an internal error', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const { dir, cleanup } = await tempDir();
  try {
    const r = await vmxfer(['daemon', '--listen', `127.0.0.1:${port}`, '--state-dir', dir], { env: { VMXFER_TOKEN: 'a-token-of-enough-length' } });
    assert.equal(r.code, EXIT_CODES.io, r.stderr);
    assert.match(r.stderr, new RegExp(`IoError: 127\\.0\\.0\\.1:${port}: listen: the address is already in use .*EADDRINUSE.*\\[VMX_IO\\]`));
    assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
  } finally {
    server.close();
    await cleanup();
  }
});

/** Root ignores directory modes but may mount: a full and a read-only tmpfs. Others get a denied directory. */
test('a full disk, a read-only file system and a denied directory are I/O errors with exit 5', async (t) => {
  const { dir, cleanup } = await tempDir();
  const mounts: string[] = [];
  try {
    const src = join(dir, 'a.raw');
    await writeFile(src, Buffer.alloc(1 << 20, 7));
    if (process.getuid?.() !== 0) {
      t.diagnostic('not root: no tmpfs can be mounted, so the full and read-only cases are skipped; the denied directory is checked');
      const locked = join(dir, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o500);
      const denied = await vmxfer(['convert', src, join(locked, 'out.raw'), '--to', 'raw']);
      assert.equal(denied.code, EXIT_CODES.io, denied.stderr);
      assert.match(denied.stderr, /EACCES|permission denied/i);
      return;
    }
    try {
      for (const [name, options] of [['full', 'size=256k'], ['ro', 'size=4m,ro']] as const) {
        await mkdir(join(dir, name));
        await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', join(dir, name)]);
        mounts.push(join(dir, name));
      }
    } catch (err) {
      // A container without CAP_SYS_ADMIN: root, so directory modes deny nothing either.
      t.skip(`root, but tmpfs cannot be mounted here (${(err as Error).message.split('\n')[0]}): the full and read-only cases are skipped`);
      return;
    }
    const full = await vmxfer(['convert', src, join(dir, 'full', 'out.raw'), '--to', 'raw']);
    assert.equal(full.code, EXIT_CODES.io, full.stderr);
    assert.match(full.stderr, /ENOSPC|no space/i);
    assert.doesNotMatch(full.stderr, /internal error/);
    const ro = await vmxfer(['convert', src, join(dir, 'ro', 'out.raw'), '--to', 'raw']);
    assert.equal(ro.code, EXIT_CODES.io, ro.stderr);
    assert.match(ro.stderr, /EROFS|read-only/i);
  } finally {
    for (const m of mounts) await run('umount', [m]).catch(() => undefined);
    await cleanup();
  }
});

test('with --json a failure is also a JSON line on stdout with code, category, message and file', async () => {
  const r = await vmxfer(['inspect', '--json', '/nonexistent/disk.vmdk']);
  assert.equal(r.code, EXIT_CODES.io);
  const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.deepEqual(
    { type: line.type, code: line.code, category: line.category, file: line.file },
    { type: 'error', code: 'VMX_FILE_NOT_FOUND', category: 'io', file: '/nonexistent/disk.vmdk' },
  );
  assert.match(String(line.message), /file does not exist/);
  const u = await vmxfer(['convert', '--json', '--bogus']);
  assert.equal(JSON.parse(u.stdout.trim()).code, 'VMX_USAGE');
});

test('-v traces each store request with its duration on stderr; without it nothing is traced', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'a.raw');
    await writeFile(src, Buffer.alloc(11 << 20, 1));
    const store = join(dir, 'store');
    await mkdir(store);
    const env = { VMXFER_STATE_DIR: join(dir, 'state') };
    const loud = await vmxfer(['upload', '-v', src, `file://${store}/a.raw`, '--part-size', '5MiB'], { env });
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /createUpload file:\/\/.*\/a\.raw ok \d+ ms/);
    assert.equal((loud.stderr.match(/uploadPart .* part \d \((5242880|1048576) bytes\) ok \d+ ms/g) ?? []).length, 3, loud.stderr);
    assert.match(loud.stderr, /completeUpload .*\(3 parts\) ok/);
    const quiet = await vmxfer(['upload', src, `file://${store}/b.raw`, '--part-size', '5MiB'], { env });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /uploadPart/);
  } finally {
    await cleanup();
  }
});

test('convert to an existing FIFO (or device) is refused with exit 2 and the node is left as it was, not replaced by a file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'a.raw');
    await writeFile(src, Buffer.alloc(1 << 20, 7));
    const fifo = join(dir, 'out.raw');
    await run('mkfifo', [fifo]);
    const r = await vmxfer(['convert', src, fifo, '--to', 'raw']);
    assert.equal(r.code, EXIT_CODES.usage, r.stderr);
    assert.match(r.stderr, /not a regular file/);
    assert.ok((await lstat(fifo)).isFIFO(), 'the FIFO is still a FIFO');
  } finally {
    await cleanup();
  }
});
