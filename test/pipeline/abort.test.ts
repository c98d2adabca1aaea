import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { convertFile } from '../../agent/pipeline/convert.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

/** Text-like data that libdeflate must really work on (random data would be stored, fast): one MiB of words, rotated per MiB. */
async function compressibleDisk(path: string, mib: number): Promise<void> {
  const words = Array.from({ length: 4096 }, () => randomBytes(1 + (randomBytes(1)[0]! % 9)).toString('base64url'));
  let text = '';
  while (text.length < MiB) text += words[(Math.random() * words.length) | 0] + ' ';
  const base = Buffer.from(text.slice(0, MiB));
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      const at = randomBytes(4).readUInt32LE() % MiB;
      await fh.write(Buffer.concat([base.subarray(at), base.subarray(0, at)]));
    }
  } finally {
    await fh.close();
  }
}

test('SIGINT during a 2-worker VMDK conversion: exit 130 within a second, no output file left behind', async (t) => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'text.raw');
    await compressibleDisk(src, 256);
    const out = join(dir, 'out.vmdk');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), 'convert', src, out, '--to', 'vmdk', '--format', 'raw', '--workers', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // The first progress line (after one second) means the pool is busy deflating.
    await new Promise<void>((resolve) => child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('"type":"progress"') && resolve()));
    const signalled = performance.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const ms = performance.now() - signalled;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /VMX_ABORTED|interrupted by SIGINT/);
    t.diagnostic(`exited ${ms.toFixed(0)} ms after SIGINT`);
    assert.ok(ms < 1000, `exited ${ms.toFixed(0)} ms after SIGINT`);
    assert.deepEqual((await readdir(dir)).sort(), ['text.raw'], 'neither the output nor a temporary file remains');
  } finally {
    await cleanup();
  }
});

test('convertFile aborted mid-way rejects with VMX_ABORTED within a second and stops its worker threads', async (t) => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'text.raw');
    await compressibleDisk(src, 128);
    const workersBefore = process.getActiveResourcesInfo().length;
    const controller = new AbortController();
    let abortedAt = 0;
    const started = convertFile({ source: src, destination: join(dir, 'out.vmdk'), to: 'vmdk', from: 'raw', workers: 2, signal: controller.signal });
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 300);
    await assert.rejects(started, (err) => isVmxferError(err) && err.code === 'VMX_ABORTED');
    const ms = performance.now() - abortedAt;
    t.diagnostic(`rejected ${ms.toFixed(0)} ms after the abort`);
    assert.ok(abortedAt > 0 && ms < 1000, `rejected ${ms.toFixed(0)} ms after the abort`);
    assert.ok(process.getActiveResourcesInfo().length <= workersBefore, `handles left: ${process.getActiveResourcesInfo().join(', ')}`);
    assert.deepEqual(await readdir(dir), ['text.raw']);
  } finally {
    await cleanup();
  }
});
