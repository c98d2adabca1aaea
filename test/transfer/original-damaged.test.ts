import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, truncate, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { QEMU_MISSING, qemuFromRaw, qemuImg } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';

/** A raw disk of 8 MiB with 2 MiB of data at the start. */
async function rawDisk(dir: string): Promise<string> {
  const raw = join(dir, 'disk.raw');
  const data = Buffer.alloc(8 << 20);
  for (let i = 0; i < 2 << 20; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
  await writeFile(raw, data);
  return raw;
}

async function cutShort(path: string, bytes: number): Promise<void> {
  await truncate(path, (await stat(path)).size - bytes);
}

test('upload --as original refuses a container cut short (OVA, VHD, qcow2) with the reader\'s code; intact ones and a child without its parent go through unchanged', { skip: QEMU_MISSING }, async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const raw = await rawDisk(dir);
    const ova = join(dir, 'vm.ova');
    assert.equal((await vmxfer(['upload', raw, `file://${ova}`, '--as', 'ova'])).code, 0);
    const vhd = await qemuFromRaw(raw, join(dir, 'disk.vhd'), 'vpc');
    const qcow2 = await qemuFromRaw(raw, join(dir, 'disk.qcow2'), 'qcow2');
    const child = join(dir, 'child.qcow2');
    await qemuImg(['create', '-f', 'qcow2', '-F', 'qcow2', '-b', qcow2, child]);
    for (const intact of [ova, vhd, qcow2]) {
      const out = join(dir, `${intact.split('/').pop()}.out`);
      const r = await vmxfer(['upload', intact, `file://${out}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await readFile(out), await readFile(intact), `${intact} goes through unchanged`);
    }
    const orphan = join(dir, 'orphan.qcow2');
    await writeFile(orphan, await readFile(child));
    const r = await vmxfer(['upload', orphan, `file://${join(dir, 'orphan.out')}`]);
    assert.equal(r.code, 0, `a child whose backing file is elsewhere is the user's to send: ${r.stderr}`);
    const cases: [string, number, string][] = [[ova, 3000, 'OVA_TAR_TRUNCATED'], [vhd, 1024, 'VHD_BAD_COOKIE'], [qcow2, 5000, 'QCOW2_DATA_PAST_EOF']];
    for (const [image, cut, code] of cases) {
      await cutShort(image, cut);
      const out = join(dir, `${image.split('/').pop()}.cut`);
      const res = await vmxfer(['upload', image, `file://${out}`]);
      assert.equal(res.code, 3, `${image}: ${res.stderr}`);
      assert.match(res.stderr, new RegExp(`\\[${code}\\]`));
      assert.match(res.stderr, new RegExp(`${image.split('/').pop()!.replace('.', '\\.')}, offset \\d+`), 'the message names the file and the offset');
      await assert.rejects(stat(out), 'nothing was written');
    }
  } finally {
    await cleanup();
  }
});
