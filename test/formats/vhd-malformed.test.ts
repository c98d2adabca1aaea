import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { qemuFromRaw } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';
import { resealFooter, resealHeader } from '../helpers/vhd-spec.js';
import { openDisk } from '../../agent/formats/detect.js';
import { isVmxferError } from '../../agent/core/errors.js';

const MiB = 1024 * 1024;
let dir = '';
let cleanup = async () => {};
let dynamic = Buffer.alloc(0);
let fixed = Buffer.alloc(0);

before(async () => {
  ({ dir, cleanup } = await tempDir());
  const raw = join(dir, 'src.raw');
  const content = Buffer.alloc(6 * MiB);
  randomBytes(MiB).copy(content, 0);
  randomBytes(MiB).copy(content, 4 * MiB + 4096);
  await writeFile(raw, content);
  dynamic = await readFile(await qemuFromRaw(raw, join(dir, 'dyn.vhd'), 'vpc', ['-o', 'subformat=dynamic']));
  fixed = await readFile(await qemuFromRaw(raw, join(dir, 'fixed.vhd'), 'vpc', ['-o', 'subformat=fixed,force_size=on']));
});

after(() => cleanup());

/** Views of a dynamic VHD's structures (qemu's layout: footer copy, header at 512, BAT at the header's Table Offset). */
function parts(img: Buffer) {
  const tail = img.subarray(img.length - 512);
  const head = img.subarray(0, 512);
  const header = img.subarray(512, 1536);
  const bat = img.subarray(Number(header.readBigUInt64BE(16)));
  return { tail, head, header, bat };
}

function bothFooters(img: Buffer, edit: (f: Buffer) => void): void {
  const { head, tail } = parts(img);
  edit(head);
  resealFooter(head);
  edit(tail);
  resealFooter(tail);
}

async function expectCode(name: string, img: Buffer, code: string, rule: RegExp): Promise<void> {
  const path = join(dir, `${name}.vhd`);
  await writeFile(path, img);
  let caught: unknown;
  await openDisk(path, { format: 'vhd' }).then(async (d) => {
    for await (const _ of d.extents()) void _;
    await d.close();
  }, (err) => (caught = err));
  assert.ok(isVmxferError(caught), `${name}: expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.file, path, `${name}: the error names the file`);
  assert.ok(caught.offset !== undefined && caught.message.includes(`offset ${caught.offset}`), `${name}: the message names the offset: ${caught.message}`);
  assert.match(caught.message, rule);
}

const CASES: Array<{ name: string; code: string; rule: RegExp; make: () => Buffer }> = [
  { name: 'footer-checksum', code: 'VHD_BAD_FOOTER_CHECKSUM', rule: /one's complement/, make: () => {
    const img = Buffer.from(dynamic);
    parts(img).tail[100]! ^= 1;
    return img;
  } },
  { name: 'header-cookie', code: 'VHD_BAD_COOKIE', rule: /cxsparse/, make: () => {
    const img = Buffer.from(dynamic);
    parts(img).header.write('cxsparsX', 0, 'latin1');
    return img;
  } },
  { name: 'no-footer', code: 'VHD_BAD_COOKIE', rule: /truncated/, make: () => Buffer.from(dynamic.subarray(0, dynamic.length - 512)) },
  { name: 'fixed-cookie', code: 'VHD_BAD_COOKIE', rule: /conectix/, make: () => {
    const img = Buffer.from(fixed);
    img.write('konectix', img.length - 512, 'latin1');
    return img;
  } },
  { name: 'copy-mismatch', code: 'VHD_FOOTER_COPY_MISMATCH', rule: /timestamp/, make: () => {
    const img = Buffer.from(dynamic);
    const { head } = parts(img);
    head.writeUInt32BE(head.readUInt32BE(24) + 1, 24);
    resealFooter(head);
    return img;
  } },
  { name: 'header-checksum', code: 'VHD_BAD_HEADER_CHECKSUM', rule: /one's complement/, make: () => {
    const img = Buffer.from(dynamic);
    parts(img).header[900]! ^= 0x40;
    return img;
  } },
  { name: 'bat-past-eof', code: 'VHD_BAT_ENTRY_PAST_EOF', rule: /past the trailing footer/, make: () => {
    const img = Buffer.from(dynamic);
    parts(img).bat.writeUInt32BE(0x00ffffff, 0);
    return img;
  } },
  { name: 'bat-over-header', code: 'VHD_BAT_ENTRY_OVERLAP', rule: /dynamic disk header/, make: () => {
    const img = Buffer.from(dynamic);
    parts(img).bat.writeUInt32BE(1, 0);
    return img;
  } },
  { name: 'bat-over-bat', code: 'VHD_BAT_ENTRY_OVERLAP', rule: /block allocation table/, make: () => {
    const img = Buffer.from(dynamic);
    const { header, bat } = parts(img);
    bat.writeUInt32BE(Number(header.readBigUInt64BE(16)) / 512, 0);
    return img;
  } },
  { name: 'blocks-overlap', code: 'VHD_BAT_ENTRY_OVERLAP', rule: /overlap/, make: () => {
    const img = Buffer.from(dynamic);
    const { bat } = parts(img);
    bat.writeUInt32BE(bat.readUInt32BE(0) + 8, 4);
    return img;
  } },
  { name: 'block-size-3mib', code: 'VHD_BAD_BLOCK_SIZE', rule: /power of two/, make: () => {
    const img = Buffer.from(dynamic);
    const { header } = parts(img);
    header.writeUInt32BE(3 * MiB, 32);
    resealHeader(header);
    return img;
  } },
  { name: 'block-size-1gib', code: 'VHD_BAD_BLOCK_SIZE', rule: /256 MiB/, make: () => {
    const img = Buffer.from(dynamic);
    const { header } = parts(img);
    header.writeUInt32BE(1024 * MiB, 32);
    resealHeader(header);
    return img;
  } },
  { name: 'bat-too-small', code: 'VHD_BAD_BAT', rule: /Max Table Entries 1 cannot cover/, make: () => {
    const img = Buffer.from(dynamic);
    const { header } = parts(img);
    header.writeUInt32BE(1, 28);
    resealHeader(header);
    return img;
  } },
  { name: 'fixed-too-large', code: 'VHD_FIXED_SIZE_MISMATCH', rule: /holds only/, make: () => {
    const img = Buffer.from(fixed);
    const tail = img.subarray(img.length - 512);
    tail.writeBigUInt64BE(100n * 1024n * BigInt(MiB), 48);
    resealFooter(tail);
    return img;
  } },
  { name: 'disk-type', code: 'VHD_BAD_DISK_TYPE', rule: /Disk Type 7/, make: () => {
    const img = Buffer.from(dynamic);
    bothFooters(img, (f) => f.writeUInt32BE(7, 60));
    return img;
  } },
  { name: 'header-offset', code: 'VHD_BAD_HEADER_OFFSET', rule: /Data Offset/, make: () => {
    const img = Buffer.from(dynamic);
    bothFooters(img, (f) => f.writeBigUInt64BE(BigInt(img.length), 16));
    return img;
  } },
];

for (const c of CASES) {
  test(`malformed VHD (${c.name}) fails with ${c.code}, naming file, offset and rule`, () => expectCode(c.name, c.make(), c.code, c.rule));
}

test('the CLI reports a malformed VHD with its code and the integrity exit status (6)', async () => {
  const img = Buffer.from(dynamic);
  parts(img).tail[100]! ^= 1;
  const path = join(dir, 'cli.vhd');
  await writeFile(path, img);
  const r = await vmxfer(['inspect', path]);
  assert.equal(r.code, 6, r.stderr); // integrity
  assert.match(r.stderr, /VHD_BAD_FOOTER_CHECKSUM/);
  assert.match(r.stderr, new RegExp(`offset ${img.length - 512 + 64}`));
});

test('the unmodified base images open (the cases above fail for their mutation only)', async () => {
  for (const [name, img] of [['dyn-ok', dynamic], ['fixed-ok', fixed]] as const) {
    const path = join(dir, `${name}.vhd`);
    await writeFile(path, img);
    const d = await openDisk(path);
    let bytes = 0;
    for await (const e of d.extents()) bytes += e.length;
    await d.close();
    assert.equal(bytes, d.virtualSize);
  }
});
