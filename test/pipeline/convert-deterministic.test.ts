import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convertFile } from '../../agent/pipeline/convert.js';
import { tempDir } from '../helpers/tmp.js';

test('convert gives the same bytes for the same source and target, run after run (VMDK CID, VHD Unique Id, OVA times); a changed source gets other ids', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const raw = join(dir, 'disk.raw');
    const data = Buffer.alloc(4 << 20);
    for (let i = 0; i < 1 << 20; i++) data[i] = (i * 13 + (i >> 10)) & 0xff;
    await writeFile(raw, data);
    await utimes(raw, 1_780_000_000, 1_780_000_000);
    const convertTo = async (run: string, to: string) => {
      await mkdir(join(dir, run), { recursive: true });
      const out = join(dir, run, `disk.${to}`);
      await convertFile({ source: raw, destination: out, to, workers: 1 });
      return readFile(out);
    };
    for (const to of ['vmdk', 'vhd', 'ova']) {
      const first = await convertTo('a', to);
      assert.ok((await convertTo('b', to)).equals(first), `${to}: two runs, one result`);
    }
    await utimes(raw, 1_780_000_100, 1_780_000_100);
    assert.ok(!(await convertTo('c', 'vmdk')).equals(await readFile(join(dir, 'a', 'disk.vmdk'))), 'a touched source is another image: another CID');
  } finally {
    await cleanup();
  }
});
