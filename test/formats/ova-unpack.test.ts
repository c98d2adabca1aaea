import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackOva } from '../../agent/formats/ova/unpack-ova.js';
import { encodeMemberHeader, endOfArchive, memberPadding } from '../../agent/formats/ova/writer/tar-header-writer.js';
import { VmxferError } from '../../agent/core/errors.js';
import { gnuTar, writeManifest } from '../helpers/ova-build.js';
import { smallRaw, writerOva } from '../helpers/export-images.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';

let dir: string;
let cleanup: () => Promise<void>;
let ova: string;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  ova = await writerOva([await smallRaw(dir, 'a.raw', 4), await smallRaw(dir, 'b.raw', 2)], join(dir, 'vm.ova'));
});
after(() => cleanup());

/** A tar of literal members, names written as given (so a test can write names GNU tar would clean up). */
function tarOf(members: Array<[string, Buffer]>): Buffer {
  return Buffer.concat([...members.flatMap(([name, body]) => [encodeMemberHeader(name, body.length), body, memberPadding(body.length)]), endOfArchive()]);
}

/** Flips one byte in the middle of the body of member `name` (found by its ustar header block). */
async function tamper(path: string, name: string): Promise<void> {
  const buf = await readFile(path);
  for (let at = 0; at + 512 <= buf.length; at += 512) {
    if (buf.toString('latin1', at, at + name.length + 1) === `${name}\0` && buf.toString('latin1', at + 257, at + 262) === 'ustar') {
      const size = parseInt(buf.toString('latin1', at + 124, at + 136), 8);
      buf[at + 512 + Math.floor(size / 2)]! ^= 0xff;
      return writeFile(path, buf);
    }
  }
  throw new Error(`no member ${name} in ${path}`);
}

/** Nothing of a failed unpack is left: neither the directory nor its hidden staging sibling. */
async function assertNothingLeft(parent: string, name: string): Promise<void> {
  assert.ok(!existsSync(join(parent, name)), `${name} exists`);
  assert.deepEqual((await readdir(parent)).filter((f) => f.includes(name)), []);
}

test('unpackOva extracts a two-disk OVA made by the OVA writer: every member equals GNU tar\'s extraction and the SHA-256 manifest is verified', async () => {
  const out = join(dir, 'unpacked');
  const r = await unpackOva(ova, out);
  assert.deepEqual(r.members.map((m) => m.name), ['vm.ovf', 'vm-disk1.vmdk', 'vm-disk2.vmdk', 'vm.mf']);
  assert.equal(r.descriptor, 'vm.ovf');
  assert.equal(r.manifest.status, 'verified');
  assert.deepEqual(r.manifest.algorithms, ['sha256']);
  assert.deepEqual([...r.manifest.verified].sort(), ['vm-disk1.vmdk', 'vm-disk2.vmdk', 'vm.ovf']);
  assert.deepEqual(r.warnings, []);
  const oracle = join(dir, 'oracle');
  await mkdir(oracle);
  await run('tar', ['-xf', ova, '-C', oracle]);
  assert.deepEqual((await readdir(out)).sort(), (await readdir(oracle)).sort());
  for (const m of r.members) {
    const got = await readFile(join(out, m.name));
    assert.ok(got.equals(await readFile(join(oracle, m.name))), `${m.name} differs from tar -x`);
    assert.equal(got.length, m.size);
  }
});

test('a disk member that differs from its SHA-256 line (manifest last, as the OVA writer and VMware put it) fails with OVA_MANIFEST_MISMATCH naming the member; nothing is left', async () => {
  const bad = join(dir, 'tampered.ova');
  await writeFile(bad, await readFile(ova));
  await tamper(bad, 'vm-disk2.vmdk');
  await assert.rejects(unpackOva(bad, join(dir, 'bad-last')), (err: unknown) => {
    assert.ok(err instanceof VmxferError);
    assert.equal(err.code, 'OVA_MANIFEST_MISMATCH');
    assert.match(err.message, /SHA256 of "vm-disk2\.vmdk" is [0-9a-f]{64}, but manifest vm\.mf says [0-9a-f]{64}/);
    return true;
  });
  await assertNothingLeft(dir, 'bad-last');
});

test('with a SHA-1 manifest before the disks, a tampered disk fails as its last byte is written (OVA_MANIFEST_MISMATCH, the member named); nothing is left', async () => {
  const stage = join(dir, 'stage-sha1');
  await mkdir(stage);
  await writeFile(join(stage, 'vm.ovf'), '<Envelope/>');
  await writeFile(join(stage, 'disk.vmdk'), randomBytes(300_000));
  await writeManifest(stage, 'vm.mf', ['vm.ovf', 'disk.vmdk'], 'sha1-nospace');
  const good = await gnuTar(stage, join(dir, 'sha1.ova'), ['vm.ovf', 'vm.mf', 'disk.vmdk'], 'ustar');
  const r = await unpackOva(good, join(dir, 'sha1-ok'));
  assert.equal(r.manifest.status, 'verified');
  assert.deepEqual(r.manifest.algorithms, ['sha1']);
  assert.ok((await readFile(join(dir, 'sha1-ok', 'disk.vmdk'))).equals(await readFile(join(stage, 'disk.vmdk'))));
  await tamper(good, 'disk.vmdk');
  await assert.rejects(unpackOva(good, join(dir, 'sha1-bad')), { code: 'OVA_MANIFEST_MISMATCH', message: /SHA1 of "disk\.vmdk" is [0-9a-f]{40}, but manifest vm\.mf says/ });
  await assertNothingLeft(dir, 'sha1-bad');
});

test('a member named ../evil is refused with OVA_TAR_UNSAFE_PATH and nothing is written, inside or beside the directory', async () => {
  const evil = join(dir, 'evil.ova');
  await writeFile(evil, tarOf([['vm.ovf', Buffer.from('<Envelope/>')], ['../evil', Buffer.from('pwned')]]));
  const parent = join(dir, 'evil-parent');
  await mkdir(parent);
  await assert.rejects(unpackOva(evil, join(parent, 'out')), { code: 'OVA_TAR_UNSAFE_PATH', message: /"\.\.\/evil" has a "\.\." component/ });
  assert.deepEqual(await readdir(parent), []);
  assert.ok(!existsSync(join(dir, 'evil')));
  await writeFile(evil, tarOf([['vm.ovf', Buffer.from('<Envelope/>')], ['/etc/evil', Buffer.from('pwned')]]));
  await assert.rejects(unpackOva(evil, join(parent, 'out')), { code: 'OVA_TAR_UNSAFE_PATH', message: /is an absolute path/ });
});

test('an archive whose first member is not the .ovf is OVA_NOT_OVA; an OVA without a manifest unpacks with a warning; a non-empty directory is OVA_UNPACK_DIR_NOT_EMPTY', async () => {
  const notOva = join(dir, 'not.ova');
  await writeFile(notOva, tarOf([['disk.vmdk', randomBytes(1000)], ['vm.ovf', Buffer.from('<Envelope/>')]]));
  await assert.rejects(unpackOva(notOva, join(dir, 'not-out')), { code: 'OVA_NOT_OVA' });
  const bare = join(dir, 'bare.ova');
  await writeFile(bare, tarOf([['vm.ovf', Buffer.from('<Envelope/>')], ['sub/disk.vmdk', randomBytes(1000)]]));
  const r = await unpackOva(bare, join(dir, 'bare-out'));
  assert.equal(r.manifest.status, 'absent');
  assert.match(r.warnings.join('\n'), /no manifest/);
  assert.equal((await readFile(join(dir, 'bare-out', 'sub', 'disk.vmdk'))).length, 1000);
  await assert.rejects(unpackOva(bare, join(dir, 'bare-out')), { code: 'OVA_UNPACK_DIR_NOT_EMPTY' });
});

test('vmxfer unpack OVA DIR lists the members and the manifest verdict; a tampered OVA exits 6 naming the member', async () => {
  const ok = await vmxfer(['unpack', ova, join(dir, 'cli-out')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /cli-out: 4 file\(s\), verified by vm\.mf \(SHA256, 3 file\(s\)\)/);
  assert.match(ok.stdout, /^ {2}vm-disk2\.vmdk \(/m);
  const bad = join(dir, 'cli-tampered.ova');
  await writeFile(bad, await readFile(ova));
  await tamper(bad, 'vm-disk1.vmdk');
  const r = await vmxfer(['unpack', bad, join(dir, 'cli-bad'), '--json']);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /SHA256 of "vm-disk1\.vmdk".*\[OVA_MANIFEST_MISMATCH\]/);
  const help = await vmxfer(['--help']);
  assert.match(help.stdout, /unpack +extract a local OVA/);
});
