import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { importWorld, realCopies, withImportDaemon, type ImportWorld } from '../helpers/import-world.js';
import { vmxfer } from '../helpers/run-command.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { pendingUploads } from '../helpers/s3-object.js';
import { COPY_SCRIPT } from '../helpers/ec2-query-fake/fake-state.js';

/** Copies stay pending until the test moves them on (the fake repeats a script's last step). */
const PENDING = [{ status: 'pending' }];
const A = '111122223333';
const REGIONS = ['us-west-2', 'eu-central-1'];

let world: ImportWorld;
before(async () => {
  world = await importWorld('snap-ami-copy', 3);
});
after(() => world?.close());

const settled = (j: any) => ['completed', 'failed', 'cancelled'].includes(j.state);
const realCopiesOf = (source: string) => realCopies(world.ec2, source);
const registrations = () => [...world.ec2.world.tasks.values()].filter((t) => t.kind === 'import-image');

/** A two-disk aws-snapshot job registered as a UEFI AMI, copied to two regions and shared with A. */
function submit(d: TestDaemon, cloudImport: Record<string, unknown> = {}) {
  const key = `snap-ami/${randomBytes(3).toString('hex')}`;
  const extraDisks = [{ format: 'raw', url: `s3://${world.bucket.name}/${key}-d2.raw` }];
  const body = { target: 'aws-snapshot', extraDisks, bootMode: 'uefi', platform: 'Linux', copy: { regions: REGIONS }, share: { accounts: [A] }, ...cloudImport };
  return d.api('POST', '/v1/jobs', { source: world.raw, destination: `s3://${world.bucket.name}/${key}-d1.raw`, format: 'raw', import: body });
}

const withDaemon = (fn: (d: TestDaemon) => Promise<void>) => withImportDaemon(world, fn);

/** Waits until the job record on disk holds both copies CopyImage started (so a kill -9 loses nothing). */
async function copiesPersisted(d: TestDaemon, id: string): Promise<Record<string, string>> {
  for (;;) {
    const rec = JSON.parse(await readFile(join(d.stateDir, 'jobs', `${id}.json`), 'utf8').catch(() => '{}'));
    const started = rec.steps?.['copies.started'] ?? {};
    if (Object.keys(started).length === REGIONS.length) return started;
    if (settled(rec)) throw new Error(`job ended ${rec.state} before both copies started: ${JSON.stringify(rec.error)}`);
    await sleep(20);
  }
}

test('POST /v1/jobs refuses copy or share after an aws-snapshot import that registers no AMI, with a 400 that says to add bootMode or platform', async () => {
  await withDaemon(async (d) => {
    for (const [extra, field] of [[{ share: undefined }, 'import.copy'], [{ copy: undefined }, 'import.share']] as const) {
      const r = await submit(d, { bootMode: undefined, platform: undefined, ...extra });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.field, field);
      assert.match(r.json.error.message, /import\.bootMode or import\.platform.*aws-image/);
    }
    const platformOnly = await submit(d, { bootMode: undefined, platform: 'Linux' });
    assert.equal(platformOnly.status, 201, 'a platform alone registers an AMI: copy and share are accepted');
  });
});

test('an API job importing two disks as snapshots, registered as a UEFI AMI, then copied to 2 regions and shared, against the EC2 Query API protocol fake: CopyImage and launch permissions act on the registered AMI and each copy', async () => {
  const { ec2 } = world;
  await withDaemon(async (d) => {
    const r = await submit(d);
    assert.equal(r.status, 201, r.text);
    const tokens = r.json.job.import.copy.map((c: any) => c.clientToken);
    const job = await waitForJob(d, r.json.job.id, settled);
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const imp = job.result.import;
    assert.equal(imp.resourceIds.length, 2, 'two snapshots');
    const reg = registrations().find((t) => t.resultId === imp.imageId)!;
    assert.deepEqual([reg.params['DiskContainer.1.SnapshotId'], reg.params['DiskContainer.2.SnapshotId']], imp.resourceIds);
    assert.equal(reg.params.BootMode, 'uefi');
    const copies = realCopiesOf(imp.imageId);
    assert.equal(copies.length, 2, 'one CopyImage per region, of the registered AMI');
    assert.equal(ec2.callsOf('CopyImage').filter((c) => imp.resourceIds.includes(c.params.SourceImageId)).length, 0, 'no snapshot id is sent as an AMI');
    assert.equal(ec2.callsOf('CopyImage').filter((c) => c.params.SourceImageId === imp.imageId && c.params.DryRun === 'true').length, 2, 'a DryRun before each copy');
    assert.deepEqual(imp.copies.map((c: any) => c.region), REGIONS);
    for (const [i, c] of imp.copies.entries()) {
      const call = copies.find((x) => x.region === c.region)!;
      assert.equal(call.params.ClientToken, tokens[i], 'the ClientToken fixed at submit');
      assert.equal(call.params.SourceRegion, 'us-east-1');
      assert.equal(ec2.world.tokens.get(tokens[i]), c.imageId);
    }
    assert.deepEqual(imp.shares.map((s: any) => [s.region, s.imageId]), [['us-east-1', imp.imageId], ...imp.copies.map((c: any) => [c.region, c.imageId])]);
    for (const s of imp.shares) {
      assert.deepEqual(s.accounts, [{ account: A, shared: true }]);
      assert.deepEqual(ec2.world.launchPermissions.get(s.imageId), [A]);
      assert.deepEqual(ec2.callsOf('ModifyImageAttribute').filter((c) => c.params.ImageId === s.imageId).map((c) => c.params.DryRun), ['true', 'false']);
    }
  });
});

test('a daemon killed (SIGKILL) while the registered AMI is being copied, then restarted, follows the copies: no second CopyImage, ImportSnapshot or ImportImage on the EC2 Query API protocol fake', async () => {
  const { ec2 } = world;
  ec2.world.scripts.copy = PENDING;
  await withDaemon(async (d) => {
    const r = await submit(d);
    assert.equal(r.status, 201, r.text);
    const id = r.json.job.id;
    const started = await copiesPersisted(d, id);
    const ami = ec2.callsOf('CopyImage').at(-1)!.params.SourceImageId!;
    const calls = { copy: ec2.callsOf('CopyImage').length, image: ec2.callsOf('ImportImage').length, snap: ec2.callsOf('ImportSnapshot').length };
    await d.kill();
    await d.restart();
    for (const c of realCopiesOf(ami)) ec2.world.tasks.get(ec2.world.tokens.get(c.params.ClientToken!)!)!.script = COPY_SCRIPT.slice(-1);
    const done = await waitForJob(d, id, settled);
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(done.result.import.imageId, ami);
    assert.equal(ec2.callsOf('CopyImage').length, calls.copy, 'no CopyImage after the restart, not even a DryRun');
    assert.equal(ec2.callsOf('ImportImage').length, calls.image, 'no second registration');
    assert.equal(ec2.callsOf('ImportSnapshot').length, calls.snap, 'no second snapshot import');
    assert.deepEqual(Object.fromEntries(done.result.import.copies.map((c: any) => [c.region, c.imageId])), started);
    for (const img of [ami, ...Object.values(started)]) assert.deepEqual(ec2.world.launchPermissions.get(img), [A]);
    assert.equal(done.attempts, 2);
  });
});

test('cancelling an API job while its registered AMI is being copied deregisters each pending copy on the EC2 Query API protocol fake and ends cancelled', async () => {
  const { ec2 } = world;
  ec2.world.scripts.copy = PENDING;
  await withDaemon(async (d) => {
    const before = ec2.callsOf('DeregisterImage').length;
    const r = await submit(d);
    const started = await copiesPersisted(d, r.json.job.id);
    assert.equal((await d.api('POST', `/v1/jobs/${r.json.job.id}/cancel`)).status, 202);
    const done = await waitForJob(d, r.json.job.id, settled);
    assert.equal(done.state, 'cancelled');
    const deregistered = ec2.callsOf('DeregisterImage').slice(before).filter((c) => c.params.DryRun !== 'true').map((c) => [c.region, c.params.ImageId]);
    assert.deepEqual(deregistered.sort(), Object.entries(started).sort());
    const ami = ec2.callsOf('CopyImage').at(-1)!.params.SourceImageId!;
    assert.ok(ec2.world.images.has(ami), 'the registered AMI itself stays');
  });
});

test('vmxfer upload --import aws-snapshot --import-disk --boot-mode uefi --platform Linux --copy-to --share-with against the EC2 Query API protocol fake: the registered AMI is copied and shared; without --boot-mode/--platform the flags are refused before the first byte', async () => {
  const { bucket, rgw, ec2, raw } = world;
  const env = { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: '', AWS_EC2_METADATA_DISABLED: 'true' };
  const args = (key: string, extra: string[]) => [
    'upload', raw, `s3://${bucket.name}/${key}-d1.raw`, '--endpoint', rgw.endpoint, '--path-style', '--region', 'us-east-1', '--workers', '0',
    '--cloud-endpoint', ec2.url, '--poll-seconds', '0.005', '--import', 'aws-snapshot', '--import-disk', `raw=s3://${bucket.name}/${key}-d2.raw`,
    '--copy-to', REGIONS.join(','), '--share-with', A, ...extra,
  ];
  const refused = await vmxfer(args('cli-refused/x', []), { env });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--copy-to applies to an image: .*add --boot-mode or --platform.*--import aws-image/);
  assert.equal(await pendingUploads(bucket.client, bucket.name, 'cli-refused/'), 0, 'refused before the first byte');

  const r = await vmxfer(args(`cli/${randomBytes(3).toString('hex')}`, ['--boot-mode', 'uefi', '--platform', 'Linux', '--json']), { env });
  assert.equal(r.code, 0, r.stderr);
  const imp = jsonResult(r).import;
  assert.equal(imp.resourceIds.length, 2);
  assert.match(imp.imageId, /^ami-/);
  assert.equal(registrations().find((t) => t.resultId === imp.imageId)!.params['DiskContainer.2.SnapshotId'], imp.resourceIds[1]);
  const copies = realCopiesOf(imp.imageId);
  assert.deepEqual(copies.map((c) => c.region).sort(), [...REGIONS].sort());
  assert.deepEqual(imp.copies.map((c: any) => c.region), REGIONS);
  assert.deepEqual(imp.shares.map((s: any) => s.imageId), [imp.imageId, ...imp.copies.map((c: any) => c.imageId)]);
  for (const s of imp.shares) assert.deepEqual(ec2.world.launchPermissions.get(s.imageId), [A]);
  const help = await vmxfer(['upload', '--help']);
  assert.match(help.stdout, /aws-snapshot registered as an AMI with\n--boot-mode \/ --platform/);
});
