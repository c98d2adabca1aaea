import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDisk } from '../../agent/formats/detect.js';
import { inspectGuest, type GuestReport } from '../../agent/guest/inspector.js';
import { guestRules } from '../../agent/guest/guest-rules.js';
import { run } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { partitionDisk, toolMissing } from '../helpers/guest-disks.js';

/*
 * XFS, Btrfs (filled with --rootdir), NTFS, LUKS2, swap and FAT made by their own mkfs tools in
 * files, copied into the partitions of one GPT disk; blkid -p (util-linux) is the oracle for each
 * label and UUID. An LVM2 label is crafted (pvcreate needs a block device).
 */

const TOOLS = ['mkfs.xfs', 'mkfs.btrfs', 'mkntfs', 'cryptsetup', 'mkswap', 'blkid', 'sgdisk', 'sfdisk', 'mkfs.fat'];
const skip = TOOLS.map(toolMissing).find(Boolean) || false;
let dir: string;
let cleanup: () => Promise<void>;
let disk: string;
let report: GuestReport;
const expected: { kind: string; uuid: string; label: string | undefined }[] = [];
const MiB = 1024 * 1024;

async function blkid(file: string): Promise<Record<string, string>> {
  const out = await run('blkid', ['-p', '-o', 'export', file]);
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** pvcreate needs a block device, so the LVM2 label (lib/format_text/layout.h) is written by hand: "LABELONE" in sector 1, type "LVM2 001", the PV UUID at offset 32 of the label. */
function lvmLabel(pvUuid: string): Buffer {
  const b = Buffer.alloc(1024 * 1024);
  const s = 512;
  b.write('LABELONE', s, 'latin1');
  b.writeBigUInt64LE(1n, s + 8);
  b.writeUInt32LE(32, s + 20);
  b.write('LVM2 001', s + 24, 'latin1');
  b.write(pvUuid, s + 32, 'latin1');
  return b;
}

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-guestfs-'));
  if (skip) return;
  const parts: { file: string; sizeMiB: number; type: string }[] = [];
  const rootdir = join(dir, 'tree');
  await mkdir(join(rootdir, 'etc'), { recursive: true });
  await writeFile(join(rootdir, 'etc', 'os-release'), 'ID=debian\nVERSION_ID="12"\n');
  const file = (n: string) => join(dir, n);
  await run('truncate', ['-s', '300M', file('xfs')]);
  await run('mkfs.xfs', ['-q', '-f', '-L', 'xfsroot', '-m', `uuid=${randomUUID()}`, file('xfs')]);
  parts.push({ file: file('xfs'), sizeMiB: 300, type: '8300' });
  await run('truncate', ['-s', '128M', file('btrfs')]);
  await run('mkfs.btrfs', ['-q', '-f', '-L', 'btrroot', '-U', randomUUID(), '--rootdir', rootdir, file('btrfs')]);
  parts.push({ file: file('btrfs'), sizeMiB: 128, type: '8300' });
  await run('truncate', ['-s', '16M', file('ntfs')]);
  await run('mkntfs', ['-q', '-F', '-Q', '-L', 'WINDATA', file('ntfs')]);
  parts.push({ file: file('ntfs'), sizeMiB: 16, type: '0700' });
  await run('truncate', ['-s', '32M', file('luks')]);
  await writeFile(file('key'), 'not-a-secret');
  await run('cryptsetup', ['luksFormat', '-q', '--type', 'luks2', '--label', 'vault', '--uuid', randomUUID(), '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--key-file', file('key'), file('luks')]);
  parts.push({ file: file('luks'), sizeMiB: 32, type: '8309' });
  await run('truncate', ['-s', '8M', file('swap')]);
  await run('mkswap', ['-q', '-L', 'swp', '-U', randomUUID(), file('swap')]);
  parts.push({ file: file('swap'), sizeMiB: 8, type: '8200' });
  await run('truncate', ['-s', '8M', file('fat')]);
  await run('mkfs.fat', ['-F', '12', '-i', '1234ABCD', '-n', 'DATA', file('fat')]);
  parts.push({ file: file('fat'), sizeMiB: 8, type: '0700' });
  for (const p of parts) {
    const id = await blkid(p.file);
    expected.push({ kind: id.TYPE === 'crypto_LUKS' ? `luks${id.VERSION}` : id.TYPE!, uuid: id.UUID!, label: id.LABEL });
  }
  const pvUuid = 'Ab1dEF2gH3iJk4LMn5oPq6RsT7uVw8Xy';
  await writeFile(file('lvm'), lvmLabel(pvUuid));
  parts.push({ file: file('lvm'), sizeMiB: 4, type: '8e00' });
  expected.push({ kind: 'lvm2-pv', uuid: pvUuid, label: undefined });
  disk = join(dir, 'fs.raw');
  const at = await partitionDisk(disk, 600, 'gpt', parts.map((p) => ({ sizeMiB: p.sizeMiB, type: p.type })));
  for (const [i, p] of parts.entries()) await run('dd', [`if=${p.file}`, `of=${disk}`, 'bs=1M', `seek=${at[i]!.offset / MiB}`, 'conv=notrunc,sparse', 'status=none']);
  const d = await openDisk(disk);
  report = await inspectGuest(d, disk);
  await d.close();
});
after(() => cleanup());

test('XFS, Btrfs, NTFS, LUKS2, swap, FAT and an LVM2 PV: each detected with the label and UUID blkid reads', async (t) => {
  if (skip) return t.skip(skip);
  const got = report.volumes.map((v) => ({ kind: v.content.kind === 'vfat' ? 'vfat' : v.content.kind, uuid: v.content.uuid!, label: v.content.label }));
  assert.deepEqual(got.map((g) => ({ ...g, uuid: g.uuid.toLowerCase() })), expected.map((e) => ({ ...e, uuid: e.uuid.toLowerCase() })));
  assert.equal(report.encrypted, true);
  assert.equal(report.volumes.find((v) => v.content.kind === 'luks2')?.content.encrypted, true);
  assert.ok(report.warnings.some((w) => /LVM2 physical volume whose metadata lists no logical volume/.test(w)), report.warnings.join('\n'));
});

test('rules on that disk: the LUKS2 volume is an error for aws-image; the unread XFS/Btrfs roots make "OS not read" a warning, not "Unknown OS"', async (t) => {
  if (skip) return t.skip(skip);
  const f = guestRules({ target: 'aws-image', guest: report });
  assert.deepEqual(f.filter((x) => x.severity === 'error').map((x) => x.rule), ['guest-encrypted-volume']);
  assert.ok(f.some((x) => x.rule === 'guest-os-not-read' && x.severity === 'warning' && /xfs/.test(x.message) && /btrfs/.test(x.message)));
  assert.ok(!f.some((x) => x.rule === 'guest-os-unknown'));
});

test('filesystems on a disk without a partition table: a bare XFS and a bare FAT (whose boot sector ends in 55 AA, not an MBR)', async (t) => {
  if (skip) return t.skip(skip);
  for (const [name, kind] of [['xfs', 'xfs'], ['fat', 'vfat']] as const) {
    const d = await openDisk(join(dir, name));
    const r = await inspectGuest(d, name);
    await d.close();
    assert.equal(r.partitionTable.scheme, 'none', name);
    assert.deepEqual(r.volumes.map((v) => [v.partition, v.content.kind]), [[undefined, kind]]);
  }
});

test('a BitLocker volume header ("-FVE-FS-") is detected as encrypted and never opened', async (t) => {
  if (skip) return t.skip(skip);
  const path = join(dir, 'bitlocker.raw');
  const [p] = await partitionDisk(path, 16, 'mbr', [{ sizeMiB: 0, type: '7' }]);
  const fh = await open(path, 'r+');
  const vbr = Buffer.alloc(512);
  vbr.set([0xeb, 0x58, 0x90]);
  vbr.write('-FVE-FS-', 3, 'latin1');
  vbr.writeUInt16LE(0xaa55, 510);
  await fh.write(vbr, 0, 512, p!.offset);
  await fh.close();
  const d = await openDisk(path);
  const r = await inspectGuest(d, path);
  await d.close();
  assert.deepEqual([r.volumes[0]!.content.kind, r.encrypted], ['bitlocker', true]);
  assert.deepEqual(guestRules({ target: 'ecs-image', guest: r }).map((f) => [f.severity, f.rule]), [['error', 'guest-encrypted-volume']]);
});
