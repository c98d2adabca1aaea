import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tempDir, REPO_ROOT } from '../helpers/tmp.js';
import { qemuImg } from '../helpers/qemu.js';
import { run } from '../helpers/run-command.js';

const pexec = promisify(execFile);
const MiB = 1024 * 1024;

/** A thin qcow2 of `size` with the same 48 MiB of data (random and text-like) at the same offsets. */
async function thinDisk(dir: string, name: string, size: string): Promise<string> {
  const path = join(dir, name);
  await qemuImg(['create', '-q', '-f', 'qcow2', path, size]);
  const writes = [0, 512, 1024, 2048, 3000].flatMap((mib, i) => ['-c', `write -P ${0x30 + i} ${mib}M 8M`]);
  await run('qemu-io', ['-f', 'qcow2', ...writes, '-c', 'write -P 0x7e 4090M 2M', path]);
  return path;
}

/** Peak RSS (KiB) of a real `vmxfer convert` process, from GNU time. */
async function peakRss(src: string, out: string): Promise<number> {
  const { stderr } = await pexec('/usr/bin/time', ['-f', 'peak-rss-kib %M', process.execPath, join(REPO_ROOT, 'bin', 'vmxfer.js'), 'convert', src, out, '--to', 'vmdk', '--no-source-hash'], {
    maxBuffer: 16 * MiB,
  });
  return Number(/peak-rss-kib (\d+)/.exec(stderr)![1]);
}

test('peak RSS does not grow with the disk: a 64 GiB and a 4 GiB thin disk convert within 10% of each other, both under 300 MiB', async (t) => {
  const { dir, cleanup } = await tempDir();
  try {
    const small = await thinDisk(dir, 'small.qcow2', '4G');
    const large = await thinDisk(dir, 'large.qcow2', '64G');
    const rssSmall = await peakRss(small, join(dir, 'small.vmdk'));
    const rssLarge = await peakRss(large, join(dir, 'large.vmdk'));
    t.diagnostic(`peak RSS: ${rssSmall} KiB converting 4 GiB, ${rssLarge} KiB converting 64 GiB`);
    const diff = Math.abs(rssLarge - rssSmall) / Math.max(rssLarge, rssSmall);
    assert.ok(rssSmall < 300 * 1024 && rssLarge < 300 * 1024, `peak RSS ${rssSmall} KiB (4 GiB) and ${rssLarge} KiB (64 GiB) must stay under 300 MiB`);
    assert.ok(diff < 0.1, `peak RSS ${rssSmall} KiB (4 GiB) vs ${rssLarge} KiB (64 GiB) differ by ${(diff * 100).toFixed(1)}%`);
    assert.match(await qemuImg(['compare', '-F', 'vmdk', '-f', 'qcow2', large, join(dir, 'large.vmdk')]), /identical/);
  } finally {
    await cleanup();
  }
});
