import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestRules } from '../../agent/guest/guest-rules.js';
import type { GuestReport } from '../../agent/guest/inspector.js';
import type { LinuxFacts } from '../../agent/guest/linux-facts.js';
import type { WindowsFacts } from '../../agent/guest/windows-facts.js';
import { AWS_LINUX, AWS_WINDOWS, ECS_LINUX, ECS_WINDOWS, WINDOWS_RELEASES, windowsRelease } from '../../agent/guest/supported-os.js';

/*
 * The supported-OS table (agent/guest/supported-os.ts) drives the rules: for every family a listed
 * version passes and an unlisted one gives the cloud's finding. The guests here are reports of one
 * bootable root, the shape the inspector gives for a real disk (test/guest/debian-guest and
 * windows-guest check the inspector builds them from disks).
 */

function report(system: (LinuxFacts | WindowsFacts) & { volume: number }, scheme: 'mbr' | 'gpt' = 'mbr'): GuestReport {
  return {
    partitionTable: { scheme, partitions: [{ number: 1, offset: 1048576, length: 1 << 30, typeName: system.family === 'windows' ? 'ntfs-exfat' : 'linux' }], warnings: [] } as unknown as GuestReport['partitionTable'],
    volumes: [{ partition: 1, offset: 1048576, length: 1 << 30, content: { kind: system.family === 'windows' ? 'ntfs' : 'ext4' }, role: 'root' }],
    bootModes: ['BIOS'],
    efiLoaders: [],
    systems: [system],
    windowsBoot: system.family === 'windows' ? { bios: { volume: 0, bcd: true } } : undefined,
    architecture: 'x86_64',
    encrypted: false,
    dynamicDisk: false,
    dualBoot: false,
    root: { device: 'found', naming: 'found', volume: 0, onBootDisk: 'yes' },
    bytesRead: 0,
    elapsedMs: 0,
    warnings: [],
  };
}

const linux = (id: string, versionId: string): LinuxFacts & { volume: number } => ({ family: 'linux', id, versionId, kernels: ['5.10.0-1'], modules: [], fstab: [], volume: 0 });
const windows = (release: string, architecture = 'x86_64'): WindowsFacts & { volume: number } => {
  const r = WINDOWS_RELEASES.find((x) => x.name === release);
  return { family: 'windows', windowsDir: '/Windows', productName: release, currentBuild: r ? String(r.builds[0]) : '99999', installationType: r?.server ? 'Server' : 'Client', release: r?.name, architecture, bootmgr: true, bcd: true, volume: 0 };
};
const unsupported = (r: GuestReport, target: 'aws-image' | 'ecs-image', extra: Record<string, string> = {}) => guestRules({ target, guest: r, ...extra }).filter((f) => f.rule === 'guest-os-unsupported').map((f) => [f.severity, f.cloudCode]);

for (const e of AWS_LINUX) {
  test(`AWS Linux ${e.ids[0]}: version ${e.versions[0]} passes, version 1 is "Unknown OS"`, () => {
    assert.deepEqual(unsupported(report(linux(e.ids[0]!, `${e.versions[0]}.1`)), 'aws-image'), []);
    assert.deepEqual(unsupported(report(linux(e.ids[0]!, '1')), 'aws-image'), [['error', 'ClientError']]);
  });
}

test('AWS Linux: an ID no row holds is "Unknown OS"; ECS: an os-release ID without a Platform is a warning, a listed one passes', () => {
  assert.deepEqual(unsupported(report(linux('arch', '2024')), 'aws-image'), [['error', 'ClientError']]);
  for (const id of Object.keys(ECS_LINUX)) assert.deepEqual(unsupported(report(linux(id, '9')), 'ecs-image'), [], id);
  assert.deepEqual(unsupported(report(linux('arch', '2024')), 'ecs-image'), [['warning', '-']]);
});

for (const e of AWS_WINDOWS) {
  test(`AWS Windows ${e.name}: listed, passes${e.bits32 ? ' (32-bit too)' : '; its 32-bit edition is refused'}`, () => {
    assert.deepEqual(unsupported(report(windows(e.name), e.uefiOnly ? 'gpt' : 'mbr'), 'aws-image'), []);
    assert.deepEqual(unsupported(report(windows(e.name, 'i386')), 'aws-image'), e.bits32 ? [] : [['error', 'ClientError']]);
  });
}

test('AWS Windows: Vista and an unknown server build are "Unknown OS"; Windows 11 with legacy-bios is refused (UEFI only)', () => {
  assert.deepEqual(unsupported(report(windows('Windows Vista')), 'aws-image'), [['error', 'ClientError']]);
  assert.deepEqual(unsupported(report({ ...windows('Windows Server 2022'), currentBuild: '25398', release: windowsRelease(25398, true)?.name }), 'aws-image'), [['error', 'ClientError']]);
  const w11 = guestRules({ target: 'aws-image', guest: report(windows('Windows 11')), bootMode: 'legacy-bios' });
  assert.ok(w11.some((f) => f.rule === 'guest-boot-mode' && /only in UEFI/.test(f.message)), JSON.stringify(w11));
});

test('ECS Windows: each Platform value passes; a release without one (Windows Server 2025, Windows 11) is a warning naming "Others Windows"', () => {
  for (const name of ECS_WINDOWS) assert.deepEqual(unsupported(report(windows(name)), 'ecs-image'), [], name);
  const r2 = guestRules({ target: 'ecs-image', guest: report(windows('Windows Server 2012 R2')), platform: 'Windows Server 2012 R2' });
  assert.deepEqual(r2.map((f) => [f.rule, f.hint]), [['guest-ecs-platform', 'Import with Platform Windows Server 2012.']], 'an R2 imports under its base release\'s Platform value');
  for (const name of ['Windows Server 2025', 'Windows 11']) {
    const f = guestRules({ target: 'ecs-image', guest: report(windows(name)) }).filter((x) => x.rule === 'guest-os-unsupported');
    assert.deepEqual(f.map((x) => [x.severity, x.cloudCode]), [['warning', '-']], name);
    assert.match(f[0]!.hint, /Others Windows/);
  }
});

test('windowsRelease: the build tells Windows 11 from 10 (ProductName says "Windows 10" for both) and server from client', () => {
  assert.deepEqual([windowsRelease(22631, false)?.name, windowsRelease(19045, false)?.name, windowsRelease(17763, true)?.name, windowsRelease(17763, false)?.name], ['Windows 11', 'Windows 10', 'Windows Server 2019', 'Windows 10']);
});
