import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
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

for (const kind of ['file', 's3', 'oss'] as const) {
  describe(`ls on ${kind}`, { skip: QEMU_MISSING }, () => {
    test('ls lists the objects under a prefix in key order with size, last modified and ETag, across pages of 2 keys; --json has one line per object', async () => {
      const store = stores[kind]!;
      const sink = store.sink();
      const base = `ls-${randomBytes(3).toString('hex')}`;
      const keys = ['a', 'b/c', 'b/d', 'e', 'f'].map((k) => `${base}/${k}`);
      const started = Date.now() - 5_000;
      const etags: Record<string, string> = {};
      for (const [i, k] of keys.entries()) {
        const id = await sink.createUpload(k, {});
        const body = randomBytes(100 + i);
        const ref = await sink.uploadPart(k, id, 1, body);
        const done = await sink.completeUpload(k, id, [ref]);
        // file:///bucket/dir/ opens dir as the bucket, where the sidecars of bucket/ are not: the ETag is the bytes' MD5.
        etags[k] = kind === 'file' ? createHash('md5').update(body).digest('hex') : done.etag;
      }
      const otherId = await sink.createUpload(`${base}x`, {});
      await sink.completeUpload(`${base}x`, otherId, [await sink.uploadPart(`${base}x`, otherId, 1, randomBytes(7))]);
      const env = { ...store.cliEnv, VMXFER_STATE_DIR: join(work.dir, 'state') };
      const flags = store.cliFlags();
      const prefixUrl = store.url(`${base}/`);

      const json = await vmxfer(['ls', prefixUrl, '--json', '--page-size', '2', ...flags], { env });
      assert.equal(json.code, 0, json.stderr);
      const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
      const objects = lines.filter((l) => l.type === 'object');
      // file:// treats the URL's directory as the bucket, so its keys are relative to it.
      const expectKey = (k: string) => (kind === 'file' ? k.slice(base.length + 1) : k);
      assert.deepEqual(objects.map((o) => o.key), keys.map(expectKey));
      for (const [i, o] of objects.entries()) {
        assert.equal(o.size, 100 + i, o.key);
        assert.equal(o.etag, etags[keys[i]!], o.key);
        const t = Date.parse(o.lastModified);
        assert.ok(t >= started && t <= Date.now() + 5_000, `${o.key} ${o.lastModified}`);
      }
      assert.deepEqual(lines.at(-1), { type: 'result', url: prefixUrl, objects: 5, bytes: 100 + 101 + 102 + 103 + 104 });

      const text = await vmxfer(['ls', store.url(`${base}/b`), ...flags], { env });
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^ +101  \\S+Z  ${kind === 'file' ? '' : `${base}/`}b/c$`, 'm'));
      assert.match(text.stdout, /^2 object\(s\), /m);

      const bad = await vmxfer(['ls', prefixUrl, '--page-size', '0', ...flags], { env });
      assert.equal(bad.code, EXIT_CODES.usage, bad.stderr);
      for (const k of [...keys, `${base}x`]) await sink.deleteObject(k);
    });
  });
}
