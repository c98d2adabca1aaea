import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, symlink, link, writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tempDir } from '../helpers/tmp.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { twoQemuDisks } from '../helpers/ova-fixtures.js';
import { fileSize, gnuTar, vmwareStyleOvf, writeManifest } from '../helpers/ova-build.js';
import { openOva } from '../../agent/formats/ova/ova-reader.js';
import { openDisk } from '../../agent/formats/detect.js';
import { parseHeaderBlock } from '../../agent/formats/ova/tar/tar-header.js';
import { TarReader } from '../../agent/formats/ova/tar/tar-reader.js';
import { encodeMemberHeader } from '../../agent/formats/ova/writer/tar-header-writer.js';
import { EXIT_CODES, VmxferError } from '../../agent/core/errors.js';

/** Reads every disk of an OVA to the end; returns the error it fails with. */
async function failure(input: string | Readable): Promise<VmxferError> {
  try {
    const opened = await openOva(input);
    for await (const d of opened.disks()) for await (const _ of d.extents()) void _;
  } catch (e) {
    assert.ok(e instanceof VmxferError, `not a VmxferError: ${String(e)}`);
    return e;
  }
  assert.fail('the OVA was read without error');
}

/** A stage directory with vm.ovf and the small qemu disk as disk.vmdk. */
async function stage(dir: string): Promise<string> {
  const s = join(dir, 'stage');
  await mkdir(s, { recursive: true });
  const { vmdks, sizes } = await twoQemuDisks();
  await copyFile(vmdks[1], join(s, 'disk.vmdk'));
  await writeFile(join(s, 'vm.ovf'), vmwareStyleOvf([{ href: 'disk.vmdk', size: await fileSize(join(s, 'disk.vmdk')), capacity: sizes[1], unitsGiB: false }]));
  return s;
}

test('tar headers: GNU base-256 and pax sizes over 8 GiB parse exactly; a pax-sized member cut short is TAR_TRUNCATED', async () => {
  const size = 9 * 2 ** 30 + 12345;
  const block = encodeMemberHeader('big.vmdk', 100).subarray(0, 512);
  const b256 = Buffer.from(block);
  b256.fill(0, 124, 136);
  b256[124] = 0x80;
  b256.writeUIntBE(size, 136 - 6, 6);
  b256.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b256) sum += x;
  b256.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  assert.equal(parseHeaderBlock(b256, 0, 'crafted.tar').size, size);
  const negative = Buffer.from(b256);
  negative[124] = 0xff;
  assert.throws(() => parseHeaderBlock(negative, 0, 'crafted.tar'), (e: VmxferError) => e.code === 'OVA_TAR_BAD_CHECKSUM' || e.code === 'OVA_TAR_BAD_HEADER');

  const pax = encodeMemberHeader('big.vmdk', size);
  assert.equal(pax.length, 3 * 512);
  const reader = new TarReader(Readable.from([pax, Buffer.alloc(4096, 7)]), 'crafted.ova');
  const entry = (await reader.next())!;
  assert.equal(entry.name, 'big.vmdk');
  assert.equal(entry.size, size);
  await assert.rejects(async () => {
    for await (const _ of entry.body) void _;
  }, (e: VmxferError) => e.code === 'OVA_TAR_TRUNCATED' && /ends \d+ bytes before the end of member "big.vmdk"/.test(e.message));
  // GNU tar reads our pax header back with the same size.
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, 'h.tar'), Buffer.concat([pax, Buffer.alloc(1024)]));
    const listing = await run('sh', ['-c', `tar -tvf ${join(dir, 'h.tar')} 2>/dev/null || true`]);
    assert.match(listing, new RegExp(`\\b${size}\\b.*big\\.vmdk`));
  } finally {
    await cleanup();
  }
});

test('tar members that are absolute, climb with "..", links, devices, FIFOs or GNU sparse files are refused, each with its code', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const s = await stage(dir);
    const cases: Array<[string, string, string[]]> = [];
    await writeFile(join(s, 'evil'), 'x');
    cases.push(['absolute', 'OVA_TAR_UNSAFE_PATH', ['-P', join(s, 'evil')]]);
    await mkdir(join(s, 'sub'));
    cases.push(['dotdot', 'OVA_TAR_UNSAFE_PATH', ['-P', 'sub/../evil']]);
    await symlink('disk.vmdk', join(s, 'sym'));
    cases.push(['symlink', 'OVA_TAR_LINK', ['sym']]);
    await link(join(s, 'evil'), join(s, 'hard'));
    cases.push(['hardlink', 'OVA_TAR_LINK', ['evil', 'hard']]);
    await run('mknod', [join(s, 'null'), 'c', '1', '3']);
    cases.push(['device', 'OVA_TAR_SPECIAL_FILE', ['null']]);
    await run('mkfifo', [join(s, 'fifo')]);
    cases.push(['fifo', 'OVA_TAR_SPECIAL_FILE', ['fifo']]);
    await writeFile(join(s, 'holes'), 'data at the start, then a hole');
    await truncate(join(s, 'holes'), 64 * 1024 * 1024);
    cases.push(['sparse', 'OVA_TAR_SPARSE_MEMBER', ['--sparse', 'holes']]);
    for (const [what, code, members] of cases) {
      const out = join(dir, `${what}.ova`);
      await run('tar', ['--format', what === 'sparse' ? 'gnu' : 'ustar', '-cf', out, '-C', s, 'vm.ovf', ...members, 'disk.vmdk']);
      const err = await failure(out);
      assert.equal(err.code, code, `${what}: ${err.message}`);
      assert.ok(err.message.startsWith(out), err.message);
      assert.equal(typeof err.offset, 'number');
    }
    const paxSparse = join(dir, 'pax-sparse.ova');
    await run('tar', ['--format', 'pax', '--sparse', '-cf', paxSparse, '-C', s, 'vm.ovf', 'holes']);
    assert.equal((await failure(paxSparse)).code, 'OVA_TAR_SPARSE_MEMBER');
  } finally {
    await cleanup();
  }
});

test('truncated archives (inside a disk member, inside the trailer) and a corrupted header checksum get their own codes', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const s = await stage(dir);
    const ova = await gnuTar(s, join(dir, 'vm.ova'), ['vm.ovf', 'disk.vmdk'], 'ustar');
    const bytes = await readFile(ova);
    const diskEnd = 512 + Math.ceil((await fileSize(join(s, 'vm.ovf'))) / 512) * 512 + 512 + Math.ceil((await fileSize(join(s, 'disk.vmdk'))) / 512) * 512;
    const cases: Array<[string, Buffer, string]> = [
      ['mid-disk', bytes.subarray(0, diskEnd - 100 * 1024), 'OVA_TAR_TRUNCATED'],
      ['no trailer', bytes.subarray(0, diskEnd), 'OVA_TAR_TRUNCATED'],
      ['half trailer', bytes.subarray(0, diskEnd + 512), 'OVA_TAR_TRUNCATED'],
    ];
    const badSum = Buffer.from(bytes);
    badSum[1] ^= 0x20; // the descriptor's name, first header
    cases.push(['checksum', badSum, 'OVA_TAR_BAD_CHECKSUM']);
    for (const [what, data, code] of cases) {
      const p = join(dir, `${what.replace(' ', '-')}.ova`);
      await writeFile(p, data);
      const err = await failure(p);
      assert.equal(err.code, code, `${what}: ${err.message}`);
    }
    // The whole archive is fine.
    const ok = await openOva(ova);
    for await (const d of ok.disks()) for await (const _ of d.extents()) void _;
  } finally {
    await cleanup();
  }
});

test('manifest: a wrong digest fails naming the file (manifest first and last); an unlisted member is a warning', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const s = await stage(dir);
    await writeManifest(s, 'vm.mf', ['vm.ovf', 'disk.vmdk'], 'sha256-space');
    const good = await readFile(join(s, 'vm.mf'), 'utf8');
    await writeFile(join(s, 'vm.mf'), good.replace(/(SHA256\(disk\.vmdk\)= )([0-9a-f])/, (_, p, c) => p + (c === '0' ? '1' : '0')));
    for (const order of [['vm.ovf', 'vm.mf', 'disk.vmdk'], ['vm.ovf', 'disk.vmdk', 'vm.mf']]) {
      const ova = await gnuTar(s, join(dir, `bad-${order[1]}.ova`), order, 'gnu');
      const err = await failure(ova);
      assert.equal(err.code, 'OVA_MANIFEST_MISMATCH', err.message);
      assert.match(err.message, /SHA256 of "disk\.vmdk"/);
      const viaReader = await openDisk(ova);
      await assert.rejects(async () => {
        for await (const _ of viaReader.extents()) void _;
      }, (e: VmxferError) => e.code === 'OVA_MANIFEST_MISMATCH');
      await viaReader.close();
    }
    await writeManifest(s, 'vm.mf', ['vm.ovf'], 'sha1-nospace');
    const partial = await gnuTar(s, join(dir, 'partial.ova'), ['vm.ovf', 'vm.mf', 'disk.vmdk'], 'ustar');
    const disk = await openDisk(partial);
    for await (const _ of disk.extents()) void _;
    assert.equal((disk.info.details!['manifest'] as { status: string }).status, 'verified');
    assert.ok(disk.info.warnings.some((w) => /"disk\.vmdk" is not listed in manifest vm\.mf/.test(w)), disk.info.warnings.join('; '));
    await disk.close();
  } finally {
    await cleanup();
  }
});

test('descriptor and package errors: DOCTYPE, first member not .ovf, bad capacity units, missing chunk, bad manifest line', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const s = await stage(dir);
    const ovf = await readFile(join(s, 'vm.ovf'), 'utf8');
    const variants: Array<[string, (x: string) => string, string]> = [
      ['doctype', (x) => x.replace('<Envelope', '<!DOCTYPE e [<!ENTITY a "aaaa">]>\n<Envelope'), 'OVA_BAD_XML'],
      ['unclosed', (x) => x.replace('</References>', ''), 'OVA_BAD_XML'],
      ['units', (x) => x.replace(/ovf:capacity="(\d+)"/, 'ovf:capacity="$1" ovf:capacityAllocationUnits="parsecs"'), 'OVA_BAD_ENVELOPE'],
      ['href', (x) => x.replace('ovf:href="disk.vmdk"', 'ovf:href="../../etc/passwd"'), 'OVA_BAD_HREF'],
      ['chunk', (x) => x.replace('ovf:id="file1"', 'ovf:id="file1" ovf:chunkSize="1048576"'), 'OVA_MISSING_FILE'],
      ['compression', (x) => x.replace('ovf:id="file1"', 'ovf:id="file1" ovf:compression="bzip2"'), 'OVA_UNSUPPORTED_COMPRESSION'],
      ['size', (x) => x.replace(/ovf:size="(\d+)"/, (_, n) => `ovf:size="${Number(n) + 512}"`), 'OVA_SIZE_MISMATCH'],
    ];
    for (const [what, edit, code] of variants) {
      await writeFile(join(s, 'vm.ovf'), edit(ovf));
      const ova = await gnuTar(s, join(dir, `${what}.ova`), ['vm.ovf', 'disk.vmdk'], 'ustar');
      const err = await failure(ova);
      assert.equal(err.code, code, `${what}: ${err.message}`);
    }
    await writeFile(join(s, 'vm.ovf'), ovf);
    const notOva = await gnuTar(s, join(dir, 'swapped.ova'), ['disk.vmdk', 'vm.ovf'], 'ustar');
    assert.equal((await failure(notOva)).code, 'OVA_NOT_OVA');
    await writeFile(join(s, 'vm.mf'), 'MD5(disk.vmdk)= 00112233445566778899aabbccddeeff\n');
    const badMf = await gnuTar(s, join(dir, 'badmf.ova'), ['vm.ovf', 'vm.mf', 'disk.vmdk'], 'ustar');
    assert.equal((await failure(badMf)).code, 'OVA_BAD_MANIFEST');
    // Split into chunks with one missing from the middle.
    const size = await fileSize(join(s, 'disk.vmdk'));
    await run('split', ['-b', '1048576', '-d', '-a', '9', 'disk.vmdk', 'disk.vmdk.'], { cwd: s });
    await writeFile(join(s, 'vm.ovf'), ovf.replace('ovf:id="file1"', 'ovf:id="file1" ovf:chunkSize="1048576"'));
    const n = Math.ceil(size / 1048576);
    const chunks = Array.from({ length: n }, (_, i) => `disk.vmdk.${String(i).padStart(9, '0')}`).filter((_, i) => i !== 2);
    const gap = await gnuTar(s, join(dir, 'gap.ova'), ['vm.ovf', ...chunks], 'ustar');
    const err = await failure(gap);
    assert.equal(err.code, 'OVA_BAD_CHUNK', err.message);
    assert.match(err.message, /disk\.vmdk\.000000002/);
  } finally {
    await cleanup();
  }
});

test('CLI: a truncated OVA exits 3 with OVA_TAR_TRUNCATED wherever it is cut (inside the VMDK head, mid-disk, in the trailer), and a cut under 1 MiB is still detected as an OVA', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const s = await stage(dir);
    const ova = await gnuTar(s, join(dir, 'vm.ova'), ['vm.ovf', 'disk.vmdk'], 'ustar');
    const bytes = await readFile(ova);
    const diskAt = 512 + Math.ceil((await fileSize(join(s, 'vm.ovf'))) / 512) * 512 + 512;
    const diskEnd = diskAt + Math.ceil((await fileSize(join(s, 'disk.vmdk'))) / 512) * 512;
    await mkdir(join(dir, 'bucket'));
    // 30000 bytes into the disk member: inside qemu's header, descriptor and grain tables (overHead 64 KiB).
    for (const [what, end] of [['vmdk-head', diskAt + 30000], ['mid-disk', diskEnd - 100 * 1024], ['trailer', diskEnd + 512]] as const) {
      const cut = join(dir, `${what}.ova`);
      await writeFile(cut, bytes.subarray(0, end));
      for (const args of [['convert', cut, join(dir, `${what}.raw`), '--to', 'raw'], ['inspect', cut], ['upload', cut, `file://${dir}/bucket/${what}.raw`, '--as', 'raw', '--state-dir', join(dir, 'state')]]) {
        const r = await vmxfer(args);
        assert.equal(r.code, EXIT_CODES['invalid-input'], `${what} ${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /\[OVA_TAR_TRUNCATED\]$/m, `${what} ${args[0]}: ${r.stderr}`);
      }
    }
  } finally {
    await cleanup();
  }
});

test('detection: an OVA under 1 MiB whose VMDK descriptor lies in its first 4 KiB is an OVA, not a VMDK descriptor file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const s = join(dir, 'small');
    await mkdir(s);
    await writeFile(join(s, 'd.raw'), Buffer.alloc(1024 * 1024, 7));
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', join(s, 'd.raw'), join(s, 'd.vmdk')]);
    const size = await fileSize(join(s, 'd.vmdk'));
    // A minimal OVF (no VirtualSystem hardware): 512 + 512 + 512 bytes put the VMDK's descriptor (sector 1) at byte 2048.
    const ovf = `<?xml version="1.0"?><Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"><References><File ovf:href="d.vmdk" ovf:id="f1" ovf:size="${size}"/></References><DiskSection><Info>d</Info><Disk ovf:capacity="1048576" ovf:capacityAllocationUnits="byte" ovf:diskId="d1" ovf:fileRef="f1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/></DiskSection><VirtualSystem ovf:id="vm"><Info>x</Info></VirtualSystem></Envelope>`;
    assert.ok(ovf.length <= 512);
    await writeFile(join(s, 'vm.ovf'), ovf);
    const ova = await gnuTar(s, join(dir, 'small.ova'), ['vm.ovf', 'd.vmdk'], 'ustar');
    assert.ok((await fileSize(ova)) < 1024 * 1024);
    assert.match((await readFile(ova)).subarray(0, 4096).toString('latin1'), /# Disk DescriptorFile/);
    const disk = await openDisk(ova);
    try {
      assert.equal(disk.info.format, 'ova');
      assert.equal(disk.virtualSize, 1024 * 1024);
    } finally {
      await disk.close();
    }
  } finally {
    await cleanup();
  }
});
