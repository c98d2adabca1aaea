import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { QEMU_MISSING, qemuFromRaw } from '../helpers/qemu.js';
import { fileStore, ossStore, s3Store, type TestStore } from '../helpers/transfer-stores.js';

/** vmxfer stat and rm on RGW, the OSS protocol server and the file store, on a qcow2 made by qemu-img. */
let work: { dir: string; cleanup: () => Promise<void> };
let image: string;
const stores: Record<string, TestStore> = {};

before(async () => {
  work = await tempDir('vmxfer-remote-');
  if (QEMU_MISSING) return;
  const raw = join(work.dir, 'disk.raw');
  await writeFile(raw, randomBytes(12 * MiB));
  image = await qemuFromRaw(raw, join(work.dir, 'disk.qcow2'), 'qcow2');
  stores.file = await fileStore(work.dir);
  stores.s3 = await s3Store('remote-objects');
  stores.oss = await ossStore('vmxfer-remote-objects');
});
after(async () => {
  for (const s of Object.values(stores)) await s.close();
  await work?.cleanup();
});

for (const kind of ['file', 's3', 'oss'] as const) {
  describe(`stat and rm on ${kind}`, { skip: QEMU_MISSING }, () => {
    test('stat names size, parts, ETag, vmxfer tags and the sniffed format; rm deletes; a missing object is STORE_NO_SUCH_KEY unless --force', async () => {
      const store = stores[kind]!;
      const url = store.url(`remote-${randomBytes(3).toString('hex')}.qcow2`);
      const env = { ...store.cliEnv, VMXFER_STATE_DIR: join(work.dir, 'state') };
      const flags = store.cliFlags();
      const up = await vmxfer(['upload', image, url, '--part-size', '5MiB', '--json', ...flags], { env });
      assert.equal(up.code, 0, up.stderr);
      const uploaded = jsonResult(up);

      const s = await vmxfer(['stat', url, '--json', ...flags], { env });
      assert.equal(s.code, 0, s.stderr);
      const info = JSON.parse(s.stdout);
      assert.equal(info.size, (await stat(image)).size);
      assert.equal(info.parts, uploaded.parts);
      assert.ok(info.parts >= 2, `${info.parts} parts`);
      assert.equal(info.etag.replace(/"/g, ''), String(uploaded.etag).replace(/"/g, ''));
      assert.equal(info.format, 'qcow2');
      assert.equal(info.tags['vmxfer-digest'], uploaded.outputDigest);
      const text = await vmxfer(['stat', url, ...flags], { env });
      assert.match(text.stdout, new RegExp(`^parts: ${uploaded.parts}$`, 'm'));
      assert.match(text.stdout, /^format: qcow2$/m);

      const rm = await vmxfer(['rm', url, ...flags], { env });
      assert.equal(rm.code, 0, rm.stderr);
      assert.match(rm.stdout, /: deleted$/m);
      const gone = await vmxfer(['stat', url, ...flags], { env });
      assert.equal(gone.code, EXIT_CODES.remote, gone.stderr);
      assert.match(gone.stderr, /STORE_NO_SUCH_KEY/);
      const again = await vmxfer(['rm', url, ...flags], { env });
      assert.equal(again.code, EXIT_CODES.remote);
      assert.match(again.stderr, /no object .*--force.*STORE_NO_SUCH_KEY/);
      const forced = await vmxfer(['rm', url, '--force', '--json', ...flags], { env });
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(JSON.parse(forced.stdout), { type: 'result', url, deleted: false });
    });
  });
}
