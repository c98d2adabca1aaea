import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';
import { vmxfer } from '../helpers/run-command.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { cachedQemuImage } from '../helpers/qemu-images.js';
import { QEMU_MISSING, qemuCompare, qemuToRaw } from '../helpers/qemu.js';
import { BLOCK } from '../helpers/ebs-fake/snapshots.js';
import { BlockSet } from '../../agent/ebs/block-set.js';
import { ebsCheckpointId } from '../../agent/ebs/snapshot-checkpoint.js';
import { EBS_DISK } from './ebs-disks.js';

let fake: Ec2QueryFake;
let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  fake = await Ec2QueryFake.start();
  ({ dir, cleanup } = await tempDir('vmxfer-ebs-cli-'));
});
after(async () => {
  await fake.close();
  await cleanup();
});

function env(): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: 'AKIDFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake-secret', AWS_EC2_METADATA_DISABLED: 'true', VMXFER_CLOUD_POLL_SECONDS: '0.01', VMXFER_STATE_DIR: join(dir, 'state') };
}

/** The checkpoint's confirmed blocks (empty until the file exists). */
async function confirmedIn(file: string): Promise<{ snapshotId?: string; confirmed: BlockSet } | undefined> {
  try {
    const cp = JSON.parse(await readFile(file, 'utf8')) as { snapshotId?: string; confirmed: string; volumeSizeGiB: number };
    const set = BlockSet.fromBase64((cp.volumeSizeGiB * 1024 ** 3) / BLOCK, cp.confirmed);
    return set ? { snapshotId: cp.snapshotId, confirmed: set } : undefined;
  } catch {
    return undefined;
  }
}

test('vmxfer upload SRC ebs://REGION killed with SIGKILL mid-upload, then --resume: the same snapshot is finished without re-sending any block the checkpoint confirmed (counted from the EBS direct APIs protocol fake log), and its volume equals qemu-img convert -O raw', { skip: QEMU_MISSING, timeout: 600_000 }, async () => {
  const qcow2 = await cachedQemuImage(EBS_DISK, 'qcow2', []);
  const oracle = await qemuToRaw(qcow2, dir);
  const url = 'ebs://eu-west-1';
  const cpFile = join(dir, 'state', 'checkpoints', `${ebsCheckpointId(qcow2, url)}.json`);
  fake.ebs.putDelayMs = 40;
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), 'upload', qcow2, url, '--endpoint', fake.url, '--concurrency', '2', '--json'], { env: { ...process.env, ...env() }, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let atKill: Awaited<ReturnType<typeof confirmedIn>>;
  for (;;) {
    atKill = await confirmedIn(cpFile);
    if (atKill && atKill.confirmed.size >= 10) break;
    await sleep(5);
  }
  child.kill('SIGKILL');
  await exited;
  fake.ebs.putDelayMs = 0;
  atKill = (await confirmedIn(cpFile))!;
  const snapshotId = atKill.snapshotId!;
  assert.equal(fake.ebs.snapshots.get(snapshotId)!.status, 'pending', 'killed before CompleteSnapshot');
  const mark = fake.ebs.calls.length;
  const r = await vmxfer(['upload', qcow2, url, '--endpoint', fake.url, '--resume', '--json'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const res = jsonResult(r);
  assert.equal(res.snapshotId, snapshotId, 'the interrupted snapshot is finished, not a new one');
  const resent = fake.ebs.calls.slice(mark).filter((c) => c.action === 'PutSnapshotBlock' && c.status === 201);
  assert.deepEqual(resent.filter((c) => atKill!.confirmed.has(c.blockIndex!)).map((c) => c.blockIndex), [], 'no confirmed block sent again');
  assert.equal(resent.length, res.blocksSent);
  assert.equal(res.blocksResumed, atKill.confirmed.size);
  assert.equal(res.blocksSent + res.blocksResumed, res.blocksWritten);
  assert.equal(fake.ebs.calls.slice(mark).filter((c) => c.action === 'StartSnapshot').length, 0);
  assert.equal(fake.ebs.snapshots.get(snapshotId)!.status, 'completed');
  const vol = join(dir, 'resumed.raw');
  await fake.ebs.writeVolume(snapshotId, vol, EBS_DISK.size);
  await qemuCompare(vol, oracle);
  console.log(`# kill -9 after ${atKill.confirmed.size} confirmed blocks; the resume sent ${res.blocksSent} of ${res.blocksWritten}`);
});

test('vmxfer upload SRC ebs://REGION --import aws-image --boot-mode uefi --platform Linux: ImportImage (DryRun first) takes the new snapshot as its disk container in the EC2 Query API protocol fake, and the AMI is reported', { skip: QEMU_MISSING, timeout: 300_000 }, async () => {
  const qcow2 = await cachedQemuImage(EBS_DISK, 'qcow2', []);
  const r = await vmxfer(['upload', qcow2, 'ebs://eu-west-1', '--endpoint', fake.url, '--import', 'aws-image', '--boot-mode', 'uefi', '--platform', 'Linux', '--architecture', 'x86_64', '--poll-seconds', '0.01', '--json'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const res = jsonResult(r);
  const calls = fake.callsOf('ImportImage');
  assert.deepEqual(calls.map((c) => c.params.DryRun), ['true', 'false']);
  const p = calls[1]!.params;
  assert.equal(p['DiskContainer.1.SnapshotId'], res.snapshotId);
  assert.equal(p['DiskContainer.1.Format'], undefined);
  assert.equal(p.BootMode, 'uefi');
  assert.equal(p.Platform, 'Linux');
  assert.equal(p.Architecture, 'x86_64');
  const task = [...fake.world.tasks.values()].find((t) => t.kind === 'import-image' && t.params['DiskContainer.1.SnapshotId'] === res.snapshotId)!;
  assert.deepEqual(res.import.resourceIds, [task.resultId]);
  assert.match(task.resultId, /^ami-/);
});

test('ebs:// refusals before any EBS call: --import aws-image --boot-mode uefi without --platform (CLOUD_PREFLIGHT_FAILED), --import aws-snapshot, a bad URL (EBS_BAD_URL), --as', async () => {
  const before = fake.ebs.calls.length;
  const src = join(REPO_ROOT, 'package.json');
  const cases: Array<[string[], RegExp]> = [
    [['ebs://eu-west-1', '--import', 'aws-image', '--boot-mode', 'uefi'], /platform[\s\S]*CLOUD_PREFLIGHT_FAILED/],
    [['ebs://eu-west-1', '--import', 'aws-snapshot'], /only --import aws-image/],
    [['ebs://nowhere'], /EBS_BAD_URL/],
    [['ebs://eu-west-1/snap-12'], /snapshot id[\s\S]*EBS_BAD_URL/],
    [['ebs://eu-west-1', '--as', 'vhd'], /--as does not apply/],
  ];
  for (const [args, expected] of cases) {
    const r = await vmxfer(['upload', src, ...args, '--endpoint', fake.url], { env: env() });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected);
  }
  assert.equal(fake.ebs.calls.length, before);
});
