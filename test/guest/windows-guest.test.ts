import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { openDisk } from '../../agent/formats/detect.js';
import { inspectGuest, type GuestReport } from '../../agent/guest/inspector.js';
import { guestRules } from '../../agent/guest/guest-rules.js';
import { describeGuest } from '../../agent/guest/describe-guest.js';
import { guestBytes } from '../../agent/guest/byte-source.js';
import { Volume } from '../../agent/guest/volume-probe.js';
import { NtfsReader } from '../../agent/guest/ntfs-reader.js';
import { RegistryHive } from '../../agent/guest/regf-hive.js';
import type { WindowsFacts } from '../../agent/guest/windows-facts.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { preflightJobImport } from '../../agent/jobs/import-after-upload.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import type { JobRecord } from '../../agent/jobs/job-types.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import { tempDir } from '../helpers/tmp.js';
import { buildWindowsDisk, ntfsVolume, SERVER_2022, WINDOWS_10, WINDOWS_TOOLS_MISSING, windowsTree } from '../helpers/windows-disk.js';
import { partitionDisk, writeBootCode } from '../helpers/guest-disks.js';
import { mkdir, writeFile } from 'node:fs/promises';

/*
 * Windows-like guests on NTFS (mkntfs + wimapply, no mounts): GPT with an ESP (UEFI) holding a
 * Windows Server 2022 tree, MBR with bootmgr (BIOS) holding a Windows 10 tree. ntfsls / ntfscat
 * (ntfs-3g) are the oracle of the NTFS reader, hivexget (libhivex) of the hive reader.
 */

const skip = WINDOWS_TOOLS_MISSING;
let dir: string;
let cleanup: () => Promise<void>;
let gpt: { path: string; volume: string; report: GuestReport };
let mbr: { path: string; volume: string; report: GuestReport };

async function inspect(path: string): Promise<GuestReport> {
  const d = await openDisk(path);
  try {
    return await inspectGuest(d, path);
  } finally {
    await d.close();
  }
}

const win = (r: GuestReport): WindowsFacts & { volume: number } => r.systems.find((s): s is WindowsFacts & { volume: number } => s.family === 'windows')!;
const rules = (r: GuestReport, extra: Record<string, string> = {}, target: 'aws-image' | 'ecs-image' = 'aws-image') => guestRules({ target, guest: r, ...extra }).map((f) => [f.severity, f.rule]);

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-winguest-'));
  if (skip) return;
  const g = await buildWindowsDisk(dir, 'gpt', SERVER_2022);
  gpt = { ...g, report: await inspect(g.path) };
  const m = await buildWindowsDisk(dir, 'mbr', WINDOWS_10);
  mbr = { ...m, report: await inspect(m.path) };
});
after(() => cleanup());

async function hivex(file: string, value: string): Promise<string> {
  return (await run('hivexget', [file, 'Microsoft\\Windows NT\\CurrentVersion', value])).trim();
}

test('Windows Server 2022 on GPT with an ESP: version from the SOFTWARE hive (as hivexget reads it), architecture, UEFI boot manager', async (t) => {
  if (skip) return t.skip(skip);
  const r = gpt.report;
  const w = win(r);
  const hive = `${dir}/tree-gpt/Windows/System32/config/SOFTWARE`;
  assert.deepEqual([w.productName, w.currentBuild, w.editionId, w.installationType, w.displayVersion], [await hivex(hive, 'ProductName'), await hivex(hive, 'CurrentBuild'), await hivex(hive, 'EditionID'), await hivex(hive, 'InstallationType'), await hivex(hive, 'DisplayVersion')]);
  assert.equal(w.version, `${Number(await hivex(hive, 'CurrentMajorVersionNumber'))}.${Number(await hivex(hive, 'CurrentMinorVersionNumber'))}`);
  assert.deepEqual([w.release, w.windowsDir, w.architecture, w.bootmgr], ['Windows Server 2022', '/Windows', 'x86_64', false]);
  assert.equal(r.volumes[w.volume]!.role, 'root');
  assert.deepEqual(r.bootModes, ['UEFI']);
  assert.deepEqual(r.windowsBoot, { uefi: { volume: 0, path: '/EFI/Microsoft/Boot/BOOTMGFW.EFI', bcd: true } });
  assert.deepEqual(r.root, { device: '/Windows', naming: 'found', volume: w.volume, onBootDisk: 'yes' });
  assert.equal(r.architecture, 'x86_64');
  console.log(`NTFS inspection (GPT, Windows Server 2022, 128 MiB disk): read ${r.bytesRead} bytes in ${r.elapsedMs} ms`);
  assert.ok(r.bytesRead < 4 * 1024 * 1024, `read ${r.bytesRead} bytes`);
  assert.match(describeGuest(r), /OS: Windows Server 2022 Datacenter \(Windows Server 2022; build 20348 21H2/);
});

test('Windows 10 on MBR with bootmgr: BIOS boot manager, client release', async (t) => {
  if (skip) return t.skip(skip);
  const r = mbr.report;
  const w = win(r);
  assert.deepEqual([w.productName, w.currentBuild, w.release, w.installationType, w.bootmgr, w.bcd], [WINDOWS_10.productName, '19045', 'Windows 10', 'Client', true, true]);
  assert.deepEqual(r.bootModes, ['BIOS']);
  assert.deepEqual(r.windowsBoot, { bios: { volume: 0, bcd: true } });
});

test('the NTFS reader against ntfs-3g: root and System32 listings (an INDX B-tree of 300+ names), file bytes, a file with an attribute list, case-insensitive lookup', async (t) => {
  if (skip) return t.skip(skip);
  const d = await openDisk(gpt.volume);
  try {
    const bytes = await guestBytes(d, gpt.volume, { maxCacheBytes: 64 * 1024 * 1024 });
    const fs = await NtfsReader.open(new Volume(bytes, 0, d.virtualSize));
    for (const p of ['/', '/Windows/System32', '/Windows/WinSxS']) {
      const ls = async (flags: string[]) => (await run('ntfsls', [...flags, '-f', gpt.volume, '-p', p])).split('\n');
      const oracle = [...(await ls([])), ...(await ls(['-s']))].filter((n) => n && n !== '.' && n !== '..');
      const mine = (await fs.list(p))!.filter((n) => n !== '.' && n !== '..');
      assert.deepEqual([...mine].sort(), [...new Set(oracle)].sort(), p);
    }
    assert.ok((await fs.list('/Windows/System32'))!.length > 300);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    for (const p of ['/Windows/System32/ntoskrnl.exe', '/Windows/System32/api-ms-win-core-module-l1-1-277.dll', '/Windows/WinSxS/manifest-with-a-rather-long-name-39.xml']) {
      const oracle = await run('sh', ['-c', 'ntfscat "$1" "$2" | sha256sum', 'sh', gpt.volume, p]);
      assert.equal(sha((await fs.readFile(p, 1 << 20))!), oracle.split(' ')[0], p);
    }
    const info = await run('ntfsinfo', ['-F', '/Windows/WinSxS/manifest-with-a-rather-long-name-0.xml', gpt.volume]);
    assert.match(info, /\$ATTRIBUTE_LIST/, 'the 40-link file has an attribute list, so the test reads through one');
    assert.equal((await fs.readFile('/WINDOWS/system32/NTOSKRNL.EXE', 2))!.toString('latin1'), 'MZ');
    assert.equal(await fs.readFile('/Windows/System32/absent.dll', 10), undefined);
    assert.equal(await fs.isDirectory('/windows/SYSTEM32/config'), true);
    const hive = await fs.openFile('/Windows/System32/config/SOFTWARE');
    const h = await RegistryHive.open((o, l) => hive!.read(o, l), hive!.size, 'SOFTWARE');
    assert.equal(await h.string('MICROSOFT\\windows nt\\CurrentVersion', 'productname'), SERVER_2022.productName);
    assert.equal(sha(await hive!.read(0, hive!.size)), sha(await readFile(`${dir}/tree-gpt/Windows/System32/config/SOFTWARE`)));
  } finally {
    await d.close();
  }
});

test('Windows boot mode against --boot-mode: UEFI Windows needs GPT + ESP + bootmgfw.efi, BIOS Windows needs MBR + bootmgr; the hint names the mode it can', async (t) => {
  if (skip) return t.skip(skip);
  assert.deepEqual(rules(gpt.report, { bootMode: 'uefi' }), []);
  const f = guestRules({ target: 'aws-image', guest: gpt.report, bootMode: 'legacy-bios' });
  assert.deepEqual(f.map((x) => [x.severity, x.rule, x.cloudCode]), [['error', 'guest-boot-mode', 'ClientError']]);
  assert.match(f[0]!.message, /not MBR/);
  assert.match(f[0]!.hint, /--boot-mode uefi/);
  assert.deepEqual(rules(mbr.report, { bootMode: 'legacy-bios' }), []);
  const m = guestRules({ target: 'ecs-image', guest: mbr.report, bootMode: 'UEFI', platform: 'Windows 10', osType: 'windows' });
  assert.deepEqual(m.map((x) => [x.severity, x.rule]), [['error', 'guest-boot-mode']]);
  assert.match(m[0]!.message, /bootmgfw\.efi/);
  const noBcd = { ...gpt.report, windowsBoot: { uefi: { ...gpt.report.windowsBoot!.uefi!, bcd: false } } };
  assert.deepEqual(rules(noBcd), [['error', 'guest-windows-boot']]);
});

test('ECS: Platform and OSType must agree with the Windows found', async (t) => {
  if (skip) return t.skip(skip);
  assert.deepEqual(rules(gpt.report, { platform: 'Windows Server 2022', osType: 'windows' }, 'ecs-image'), []);
  assert.deepEqual(rules(gpt.report, { platform: 'CentOS', osType: 'linux' }, 'ecs-image'), [['error', 'guest-ecs-os-type'], ['error', 'guest-ecs-platform']]);
  assert.match(guestRules({ target: 'ecs-image', guest: gpt.report, platform: 'Windows Server 2019' }).find((f) => f.rule === 'guest-ecs-platform')!.hint, /Platform Windows Server 2022/);
});

test('vmxfer inspect --guest (text and --json), vmxfer preflight and an API import job\'s preflight carry the Windows facts and rules', async (t) => {
  if (skip) return t.skip(skip);
  const text = await vmxfer(['inspect', gpt.path, '--guest']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /OS: Windows Server 2022 Datacenter \(Windows Server 2022; build 20348 21H2, version 10\.0, edition ServerDatacenter, Server\) in \/Windows on partition 2/);
  assert.match(text.stdout, /Windows boot manager: no bootmgr; \/EFI\/Microsoft\/Boot\/BOOTMGFW\.EFI on partition 1 with BCD/);
  const json = JSON.parse((await vmxfer(['inspect', gpt.path, '--guest', '--json'])).stdout);
  assert.deepEqual(json.guest.systems, gpt.report.systems);
  assert.deepEqual(json.guest.windowsBoot, gpt.report.windowsBoot);
  const mode = await vmxfer(['preflight', mbr.path, '--import', 'aws-image', '--boot-mode', 'uefi']);
  assert.equal(mode.code, 2, mode.stdout + mode.stderr);
  assert.match(mode.stdout, /ERROR \[ClientError\] boot mode uefi was asked, but Windows on this disk cannot boot in UEFI mode/);
  const ctx = { config: { ...DEFAULTS, cloud: { ...DEFAULTS.cloud, aws_region: 'us-east-1' } } } as unknown as RunContext;
  const job = { id: 'j1', source: gpt.path, destination: 's3://b/k.raw', options: {}, import: { target: 'aws-image', checkRole: false, bootMode: 'uefi' } } as unknown as JobRecord;
  let seen: GuestReport | undefined;
  const plan = await preflightJobImport(job, ctx, new AbortController().signal, (g) => (seen = g));
  assert.deepEqual(seen?.systems, gpt.report.systems, 'job.guest gets the Windows facts');
  assert.deepEqual(plan?.findings.filter((f) => f.rule.startsWith('guest-')), []);
});

test('MBR with a System Reserved partition (bootmgr, Boot/BCD) before the Windows partition: BIOS boot manager found on partition 1, Windows on 2', async (t) => {
  if (skip) return t.skip(skip);
  const path = `${dir}/reserved.raw`;
  const [reserved, system] = await partitionDisk(path, 96, 'mbr', [{ sizeMiB: 16, type: '7', bootable: true }, { sizeMiB: 0, type: '7' }]);
  const boot = `${dir}/reserved-tree`;
  await mkdir(`${boot}/Boot`, { recursive: true });
  await writeFile(`${boot}/bootmgr`, 'BOOTMGR');
  await writeFile(`${boot}/Boot/BCD`, Buffer.alloc(8192));
  for (const [at, tree, name] of [[reserved!, boot, 'reserved'], [system!, await windowsTree(`${dir}/reserved-win`, SERVER_2022, { bios: false }), 'system']] as const) {
    await ntfsVolume(`${dir}/${name}.img`, at.length, tree, name);
    await run('dd', [`if=${dir}/${name}.img`, `of=${path}`, 'bs=1M', `seek=${at.offset / (1024 * 1024)}`, 'conv=notrunc,sparse', 'status=none']);
  }
  await writeBootCode(path);
  const r = await inspect(path);
  assert.deepEqual(r.volumes.map((v) => [v.partition, v.content.kind, v.role]), [[1, 'ntfs', 'boot'], [2, 'ntfs', 'root']]);
  assert.deepEqual([win(r).volume, win(r).bootmgr, r.windowsBoot], [1, false, { bios: { volume: 0, bcd: true } }]);
  assert.deepEqual(rules(r, { bootMode: 'legacy-bios' }), []);
  assert.deepEqual(rules(r, { bootMode: 'uefi' }), [['error', 'guest-boot-mode']]);
});
