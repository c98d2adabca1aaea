import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { ext4At, fatAt, GUEST_TOOLS_MISSING, partitionDisk, peImage, rootTree } from '../helpers/guest-disks.js';
import { preflightJobImport } from '../../agent/jobs/import-after-upload.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import type { JobRecord } from '../../agent/jobs/job-types.js';
import type { RunContext } from '../../agent/jobs/run-context.js';
import { VmxferError } from '../../agent/core/errors.js';
import { debianBootFiles, KERNEL } from './guest-fixture.js';

/*
 * The guest checks where users meet them: `vmxfer inspect --guest` (text and --json), `vmxfer
 * preflight`, `upload --import` before its first byte, an API import job's validation, and
 * --skip-guest-checks / import.guestChecks=false.
 */

const skip = GUEST_TOOLS_MISSING;
let dir: string;
let cleanup: () => Promise<void>;
let clean: string;
let dual: string;
let rootUuid: string;
const RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';

async function build(name: string, second: boolean): Promise<string> {
  const path = join(dir, name);
  const uuid = randomUUID();
  if (!second) rootUuid = uuid;
  const parts = [{ sizeMiB: 8, type: 'ef00' }, { sizeMiB: second ? 24 : 0, type: '8300' }, ...(second ? [{ sizeMiB: 0, type: '8300' }] : [])];
  const at = await partitionDisk(path, 64, 'gpt', parts);
  await fatAt(path, at[0]!, [{ path: '/EFI/BOOT/BOOTX64.EFI', content: peImage(0x8664) }], { volumeId: 'CAFE0001', bits: 12 }, dir);
  await ext4At(path, at[1]!, await rootTree(join(dir, `${name}.a`), undefined, [{ path: 'etc/os-release', content: RELEASE }, ...debianBootFiles(uuid)]), { uuid, label: 'root' });
  if (second) await ext4At(path, at[2]!, await rootTree(join(dir, `${name}.b`), undefined, [{ path: 'etc/os-release', content: RELEASE }, ...debianBootFiles(randomUUID())]), { uuid: randomUUID() });
  return path;
}

before(async () => {
  ({ dir, cleanup } = await tempDir('vmxfer-guestcli-'));
  if (skip) return;
  clean = await build('clean.raw', false);
  dual = await build('dual.raw', true);
});
after(() => cleanup());

test('vmxfer inspect --guest prints the guest facts after the container facts; --json puts them under "guest"', async (t) => {
  if (skip) return t.skip(skip);
  const text = await vmxfer(['inspect', clean, '--guest']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^format: raw/m);
  assert.match(text.stdout, /partition table: gpt .*primary header ok, backup header ok/);
  assert.match(text.stdout, new RegExp(`partition 2: .*linux-data ext4 label=root uuid=${rootUuid} \\[root\\]`));
  assert.match(text.stdout, /boot modes: UEFI/);
  assert.match(text.stdout, /EFI loader: \/EFI\/BOOT\/BOOTX64\.EFI \(x86_64\)/);
  assert.match(text.stdout, /OS: Debian GNU\/Linux 12 \(bookworm\) \(ID=debian, VERSION_ID=12\) on partition 2/);
  assert.match(text.stdout, new RegExp(`default boot entry: "Debian GNU/Linux" /boot/vmlinuz-${KERNEL}`));
  assert.match(text.stdout, /read \d+ bytes of the disk in [\d.]+ ms/);
  const json = await vmxfer(['inspect', clean, '--guest', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const o = JSON.parse(json.stdout);
  assert.equal(o.format, 'raw');
  assert.equal(o.guest.systems[0].versionId, '12');
  assert.deepEqual(o.guest.bootModes, ['UEFI']);
  const plain = JSON.parse((await vmxfer(['inspect', clean, '--json'])).stdout);
  assert.equal(plain.guest, undefined, 'without --guest nothing inside the disk is read');
});

test('vmxfer preflight runs the guest rules (dual boot refused with exit 2); --skip-guest-checks skips them with a warning', async (t) => {
  if (skip) return t.skip(skip);
  const ok = await vmxfer(['preflight', clean, '--import', 'aws-image', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), []);
  const mode = await vmxfer(['preflight', clean, '--import', 'aws-image', '--boot-mode', 'legacy-bios']);
  assert.equal(mode.code, 2);
  assert.match(mode.stdout, /ERROR \[ClientError\] boot mode legacy-bios was asked, but the disk boots only in UEFI — Import with --boot-mode uefi\./);
  const r = await vmxfer(['preflight', dual, '--import', 'ecs-image', '--name', 'web01', '--json']);
  assert.equal(r.code, 2);
  // With --json the findings come first, then the failure as one JSON error line.
  const [findings, failure] = r.stdout.trim().split(/\n(?=\{"type":"error")/);
  assert.deepEqual(JSON.parse(findings!).map((f: { rule: string }) => f.rule), ['guest-dual-boot']);
  assert.equal(JSON.parse(failure!).code, 'CLOUD_PREFLIGHT_FAILED');
  const skipped = await vmxfer(['preflight', dual, '--import', 'ecs-image', '--name', 'web01', '--skip-guest-checks', '--json']);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.deepEqual(JSON.parse(skipped.stdout).map((f: { severity: string; rule: string }) => [f.severity, f.rule]), [['warning', 'guest-checks-skipped']]);
});

test('vmxfer upload --import refuses a dual-boot disk before any connection to the store (the endpoint is closed)', async (t) => {
  if (skip) return t.skip(skip);
  const env = { AWS_ACCESS_KEY_ID: 'AKIDGUEST', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
  const args = ['upload', dual, 's3://bucket/disk.raw', '--endpoint', 'http://127.0.0.1:9', '--path-style', '--import', 'aws-image', '--no-role-check', '--as', 'original'];
  const r = await vmxfer(args, { env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /ERROR \[ClientError\] the disk holds 2 operating systems/);
  assert.match(r.stderr, /CLOUD_PREFLIGHT_FAILED/);
  const skipped = await vmxfer([...args, '--skip-guest-checks'], { env });
  assert.match(skipped.stderr, /WARNING \[-\] the checks inside the guest .* were skipped on request/);
  assert.doesNotMatch(skipped.stderr, /CLOUD_PREFLIGHT_FAILED/, 'with the skip, the upload goes on to the (closed) store');
});

test('an API import job validates with the guest rules (import.guestChecks=false skips them)', async (t) => {
  if (skip) return t.skip(skip);
  const ctx = { config: { ...DEFAULTS, cloud: { ...DEFAULTS.cloud, aws_region: 'us-east-1' } } } as unknown as RunContext;
  const job = (guestChecks?: boolean) => ({ id: 'j1', source: dual, destination: 's3://b/k.raw', options: {}, import: { target: 'aws-image', checkRole: false, guestChecks } }) as unknown as JobRecord;
  await assert.rejects(preflightJobImport(job(), ctx, new AbortController().signal), (e: unknown) => {
    assert.ok(e instanceof VmxferError);
    assert.equal(e.code, 'CLOUD_PREFLIGHT_FAILED');
    assert.match(e.message, /guest|operating systems/);
    return true;
  });
  const plan = await preflightJobImport(job(false), ctx, new AbortController().signal);
  assert.deepEqual(plan?.findings.filter((f) => f.rule.startsWith('guest-')).map((f) => f.rule), ['guest-checks-skipped']);
});
