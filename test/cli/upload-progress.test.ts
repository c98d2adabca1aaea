import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { vmxfer } from '../helpers/run-command.js';
import { interruptWhenReady } from '../helpers/killable-cli.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';
import { MiB } from '../../agent/core/units.js';

const pexec = promisify(execFile);
/** What the bar writes before each redraw after the carriage return: ESC [ K, erase to the end of the line. */
const ERASE_LINE = '\x1b[K';

/**
 * Progress follows the bytes the store confirmed: with --bwlimit the converter has read the whole
 * 12 MiB disk long before the store has it, and the bar, rate and ETA must say what is still unsent.
 */
async function setup() {
  const work = await tempDir('vmxfer-progress-');
  const src = join(work.dir, 'disk.raw');
  await writeFile(src, randomBytes(12 * MiB));
  await mkdir(join(work.dir, 'store'));
  return { work, src, url: (k: string) => `file://${join(work.dir, 'store')}/${k}`, env: { VMXFER_STATE_DIR: join(work.dir, 'state') } };
}

test('--json progress: bytes confirmed by the store drive percent, rate and ETA while conversion is already done', async () => {
  const { work, src, url, env } = await setup();
  try {
    const r = await vmxfer(['upload', src, url('a.raw'), '--part-size', '5MiB', '--bwlimit', '4MiB', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const uploading = lines.filter((l) => l.type === 'progress' && l.phase === 'uploading' && l.upload);
    assert.ok(uploading.length >= 2, `${uploading.length} uploading lines: ${r.stdout}`);
    const convertedButUnsent = uploading.filter((l) => l.bytesRead === l.totalBytes && l.upload.bytesConfirmed < l.upload.outputBytes);
    assert.ok(convertedButUnsent.length >= 1, `no line shows conversion done with bytes unsent: ${r.stdout}`);
    for (const l of convertedButUnsent) {
      const unsent = l.upload.outputBytes - l.upload.bytesConfirmed;
      // The ETA is of the unsent bytes at the confirmed rate (rounded to a second), not of the bytes left to read (none).
      if (l.rate > 0) assert.ok(Math.abs(l.etaSeconds - unsent / l.rate) <= 0.5, `ETA ${l.etaSeconds} s with ${unsent} bytes unsent at ${l.rate} B/s`);
      else assert.equal(l.etaSeconds, null);
      assert.equal(l.upload.outputBytes, 12 * MiB);
      assert.equal(l.upload.partsTotal, 3);
    }
    const confirmed = uploading.map((l) => l.upload.bytesConfirmed as number);
    assert.deepEqual(confirmed, [...confirmed].sort((a, b) => a - b), 'confirmed bytes never go back');
    const moving = uploading.filter((l) => l.upload.bytesConfirmed > 0 && l.upload.bytesConfirmed < l.upload.outputBytes);
    assert.ok(moving.length >= 1, 'a line falls between two confirmations');
    for (const l of moving) assert.ok(l.rate > 0, `rate ${l.rate} of confirmed bytes while parts are being sent`);
    const last = lines.filter((l) => l.type === 'progress').at(-1)!;
    assert.equal(last.upload.bytesConfirmed, 12 * MiB);
    assert.equal(last.upload.partsDone, 3);
  } finally {
    await work.cleanup();
  }
});

test('on a terminal (script(1)) the bar redraws on a timer, shows sent bytes, parts and conversion beside it', async (t) => {
  const which = await pexec('which', ['script']).catch(() => undefined);
  if (!which) {
    t.skip('script(1) is not installed: no pseudo-terminal to draw on');
    return;
  }
  const { work, src, url, env } = await setup();
  try {
    const cmd = `"${process.execPath}" bin/vmxfer.js upload ${src} ${url('b.raw')} --part-size 5MiB --bwlimit 4MiB`;
    const { stdout } = await pexec('script', ['-qec', cmd, '/dev/null'], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    const frames = stdout.split(`\r${ERASE_LINE}`).filter((f) => f.startsWith('uploading'));
    assert.ok(frames.length >= 5, `${frames.length} redraws while uploading (200 ms timer over ~3 s): ${JSON.stringify(stdout.slice(0, 400))}`);
    const mid = frames.filter((f) => /converted 100%/.test(f) && / parts [12]\/3 /.test(f));
    assert.ok(mid.length >= 1, 'a frame shows conversion done while the upload is not');
    assert.match(mid.at(-1)!, /\d+\.\d%\s+[\d.]+ MiB\/12\.0+ MiB sent [\d.]+ (MiB|KiB)\/s ETA \d+:\d\d \| parts [12]\/3 \| converted 100%/);
    assert.ok(mid.every((f) => !/100\.0%/.test(f)), 'the bar is not full while parts are unsent');
  } finally {
    await work.cleanup();
  }
});

test('Ctrl-C during an upload says how to resume or cancel it, and --resume then finishes it', async () => {
  const { work, src, url, env } = await setup();
  try {
    const args = ['upload', src, url('c.raw'), '--part-size', '5MiB', '--bwlimit', '2MiB'];
    const checkpoints = join(env.VMXFER_STATE_DIR, 'checkpoints');
    const { readdir } = await import('node:fs/promises');
    const r = await interruptWhenReady(args, env, async () => (await readdir(checkpoints).catch(() => [])).length > 0);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, new RegExp(`upload interrupted; the confirmed parts are kept\\. Continue with: vmxfer upload ${src} ${url('c.raw')} --resume`));
    assert.match(r.stderr, /or abort it at the store with: vmxfer upload .* --cancel/);
    const resumed = await vmxfer([...args.slice(0, 5), '--resume'], { env });
    assert.equal(resumed.code, 0, resumed.stderr);
  } finally {
    await work.cleanup();
  }
});
