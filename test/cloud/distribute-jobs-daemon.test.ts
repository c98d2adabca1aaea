import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { importWorld, realCopies, withImportDaemon, type ImportWorld } from '../helpers/import-world.js';
import { closeFeed, feed } from '../helpers/feed-socket.js';
import { Ec2Error } from '../helpers/ec2-query-fake/ec2-actions.js';
import { COPY_SCRIPT } from '../helpers/ec2-query-fake/fake-state.js';

/** Copies stay pending until the test moves them on (the fake repeats a script's last step). */
const PENDING = [{ status: 'pending' }];
const A = '111122223333';
const B = '444455556666';

let world: ImportWorld;
before(async () => {
  world = await importWorld('distribute-jobs', 5);
});
after(() => world?.close());

function submit(d: TestDaemon, cloudImport: Record<string, unknown>) {
  const key = `distribute/${randomBytes(3).toString('hex')}.vmdk`;
  return d.api('POST', '/v1/jobs', { source: world.raw, destination: `s3://${world.bucket.name}/${key}`, format: 'vmdk', import: { target: 'aws-image', ...cloudImport } });
}

const withDaemon = (fn: (d: TestDaemon) => Promise<void>) => withImportDaemon(world, fn);

const realCopiesOf = (source: string) => realCopies(world.ec2, source);

const until = (states: string[]) => (j: any) => states.includes(j.state);

/** A job copying its AMI to two regions, both CopyImage calls made and the copies pending. */
async function twoCopiesPending(d: TestDaemon, more: Record<string, unknown> = {}): Promise<{ id: string; ami: string }> {
  const r = await submit(d, { copy: { regions: ['us-west-2', 'eu-central-1'] }, ...more });
  const id = r.json.job.id;
  const copying = await waitForJob(d, id, (j) => (j.phase === 'copying' && j.cloudTask?.state === 'pending') || until(['completed', 'failed'])(j));
  assert.equal(copying.phase, 'copying', JSON.stringify(copying.error));
  const ami = world.ec2.callsOf('CopyImage').at(-1)!.params.SourceImageId!;
  while (realCopiesOf(ami).length < 2) await new Promise((res) => setTimeout(res, 20));
  return { id, ami };
}

test('POST /v1/jobs refuses a bad copy or share request with a 400 naming the field, before the job exists', async () => {
  await withDaemon(async (d) => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ target: 'aws-snapshot', copy: { regions: ['us-west-2'] } }, 'import.copy'],
      [{ copy: { regions: ['us-west-2', 'Mars'] } }, 'import.copy.regions[1]'],
      [{ copy: [{ region: 'us-west-2' }, { region: 'us-west-2' }] }, 'import.copy[1].region'],
      [{ copy: { regions: ['us-west-2'], kmsKeyId: 'arn:aws:kms:us-west-2:111122223333:key/k' } }, 'import.copy.kmsKeyId'],
      [{ copy: [{ region: 'us-west-2', name: 'x' }] }, 'import.copy[0].name'],
      [{ copy: { regions: ['us-west-2'], color: 'red' } }, 'import.copy.color'],
      [{ share: { accounts: ['12345'] } }, 'import.share.accounts'],
      [{ share: { accounts: [A], community: true } }, 'import.share.community'],
      [{ dryRun: 'no' }, 'import.dryRun'],
    ];
    for (const [body, field] of cases) {
      const r = await submit(d, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.field, field, `${JSON.stringify(body)}: ${r.json.error.message}`);
    }
    assert.equal((await d.api('GET', '/v1/jobs')).json.jobs.length, 0);
  });
});

test('a copy to the source region fails the job while it validates (CLOUD_COPY_RULE), before the first byte', async () => {
  await withDaemon(async (d) => {
    const r = await submit(d, { copy: { regions: ['us-east-1'] } });
    assert.equal(r.status, 201, r.text);
    const job = await waitForJob(d, r.json.job.id, until(['failed', 'completed']));
    assert.equal(job.error?.code, 'CLOUD_COPY_RULE');
    assert.match(job.error.message, /copy\[0\]\.region: is the source region us-east-1/);
    assert.equal(job.progress.bytesRead, 0);
  });
});

test('an API job upload → import → copy to 2 regions → share on the EC2 Query API protocol fake: completed with the copies and each account outcome, copy states on the feed', async () => {
  const { ec2 } = world;
  await withDaemon(async (d) => {
    const { ws, got } = await feed(d);
    const r = await submit(d, { copy: { regions: ['us-west-2', 'eu-central-1'], name: 'web01 copy' }, share: { accounts: [A, B] } });
    assert.equal(r.status, 201, r.text);
    const tokens = r.json.job.import.copy.map((c: any) => c.clientToken);
    assert.equal(new Set(tokens).size, 2, 'one ClientToken per destination, fixed at submit');
    const job = await waitForJob(d, r.json.job.id, until(['completed', 'failed']));
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const ami = job.result.import.resourceIds[0];
    const copies = job.result.import.copies;
    assert.deepEqual(copies.map((c: any) => c.region), ['us-west-2', 'eu-central-1']);
    for (const [i, c] of copies.entries()) {
      assert.match(c.imageId, /^ami-[0-9a-f]{17}$/);
      const call = realCopiesOf(ami).find((x) => x.region === c.region)!;
      assert.equal(call.params.ClientToken, tokens[i]);
      assert.equal(call.params.SourceRegion, 'us-east-1');
      assert.equal(call.params.Name, 'web01 copy');
      assert.equal(ec2.world.images.get(c.imageId)?.region, c.region);
    }
    assert.equal(ec2.callsOf('CopyImage').filter((c) => c.params.SourceImageId === ami && c.params.DryRun === 'true').length, 2, 'a DryRun before each copy');
    assert.deepEqual(job.result.import.shares.map((s: any) => [s.imageId, s.region]), [[ami, 'us-east-1'], ...copies.map((c: any) => [c.imageId, c.region])]);
    for (const s of job.result.import.shares) {
      assert.deepEqual(s.accounts, [{ account: A, shared: true }, { account: B, shared: true }]);
      assert.deepEqual(ec2.world.launchPermissions.get(s.imageId), [A, B]);
    }
    await new Promise((res) => setTimeout(res, 300));
    const mine = got.filter((m) => m.type === 'job' && m.job.id === job.id).map((m) => m.job);
    const phases = mine.map((j) => j.phase).filter((p, i, a) => p && p !== a[i - 1]);
    assert.deepEqual(phases.slice(-3), ['importing', 'copying', 'sharing']);
    const copyStates = mine.filter((j) => j.cloudTask?.kind === 'aws-copy').map((j) => `${j.cloudTask.id}:${j.cloudTask.state}`);
    for (const c of copies) {
      const seen = copyStates.filter((s) => s.startsWith(c.imageId)).map((s) => s.split(':')[1]);
      assert.deepEqual(seen.filter((s, i) => s !== seen[i - 1]), ['pending', 'available']);
    }
    assert.match((await d.api('GET', '/metrics')).text, /^vmxfer_cloud_task_updates_total\{kind="aws-copy",state="available",agent="[^"]+"\} 2$/m);
    await closeFeed(ws);
  });
});

test('a daemon restarted mid-copy follows the copies it started: no second CopyImage, no second import', async () => {
  const { ec2 } = world;
  ec2.world.scripts.copy = PENDING;
  await withDaemon(async (d) => {
    const { id, ami } = await twoCopiesPending(d);
    const imports = ec2.callsOf('ImportImage').length;
    const copyCalls = ec2.callsOf('CopyImage').length;
    await d.restart();
    // The copies finish while the daemon is back.
    for (const c of realCopiesOf(ami)) ec2.world.tasks.get(ec2.world.tokens.get(c.params.ClientToken!)!)!.script = COPY_SCRIPT.slice(-1);
    const done = await waitForJob(d, id, until(['completed', 'failed', 'cancelled']));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal(ec2.callsOf('CopyImage').length, copyCalls, 'no CopyImage after the restart, not even a DryRun');
    assert.equal(ec2.callsOf('ImportImage').length, imports, 'no second import');
    assert.equal(ec2.callsOf('DeregisterImage').length, 0, 'the stop did not stop the copies');
    assert.deepEqual(done.result.import.copies.map((c: any) => c.imageId).sort(), realCopiesOf(ami).map((c) => ec2.world.tokens.get(c.params.ClientToken!)).sort());
    assert.equal(done.attempts, 2);
  });
});

test('cancelling an API job mid-copy stops each copy on the EC2 Query API protocol fake (DeregisterImage of the pending AMI) and ends cancelled', async () => {
  const { ec2 } = world;
  ec2.world.scripts.copy = PENDING;
  await withDaemon(async (d) => {
    const before = ec2.callsOf('DeregisterImage').length;
    const { id, ami } = await twoCopiesPending(d);
    assert.equal((await d.api('POST', `/v1/jobs/${id}/cancel`)).status, 202);
    const done = await waitForJob(d, id, until(['cancelled', 'completed', 'failed']));
    assert.equal(done.state, 'cancelled');
    const copies = realCopiesOf(ami).map((c) => [c.region, ec2.world.tokens.get(c.params.ClientToken!)!]);
    const deregistered = ec2.callsOf('DeregisterImage').slice(before).map((c) => [c.region, c.params.ImageId]);
    assert.deepEqual(deregistered.sort(), copies.sort());
    for (const [, img] of copies) assert.equal(ec2.world.images.has(img!), false, 'the pending copy is gone');
    const why = `job ${id} cancelled through the API [VMX_ABORTED]`;
    assert.deepEqual(done.cloudOutcome.copies.map((c: any) => [c.region, c.imageId, c.state, c.code, c.reason]), ['us-west-2', 'eu-central-1'].map((region) => [region, copies.find((c) => c[0] === region)![1], 'cancelled', 'VMX_ABORTED', why]));
  });
});

test('the CopyImage DryRun answered UnauthorizedOperation fails the job before the real CopyImage; dryRun:false makes no DryRun call', async () => {
  const { ec2 } = world;
  await withDaemon(async (d) => {
    ec2.failNext.set('CopyImage', new Ec2Error(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const r = await submit(d, { copy: { regions: ['us-west-2'] } });
    const job = await waitForJob(d, r.json.job.id, until(['completed', 'failed']));
    assert.equal(job.state, 'failed');
    assert.equal(job.error.code, 'CLOUD_API_ERROR');
    assert.match(job.error.message, /UnauthorizedOperation/);
    const ami = ec2.callsOf('CopyImage').at(-1)!.params.SourceImageId!;
    assert.deepEqual(ec2.callsOf('CopyImage').filter((c) => c.params.SourceImageId === ami).map((c) => c.params.DryRun), ['true'], 'only the DryRun was sent');
    assert.deepEqual(job.cloudOutcome.copies, [{ region: 'us-west-2', imageId: null, state: 'failed', code: 'CLOUD_API_ERROR', cloudCode: 'UnauthorizedOperation', reason: job.error.message }]);

    const plain = await submit(d, { copy: { regions: ['us-west-2'] }, share: { accounts: [A] }, dryRun: false });
    const ok = await waitForJob(d, plain.json.job.id, until(['completed', 'failed']));
    assert.equal(ok.state, 'completed', JSON.stringify(ok.error));
    const src = ok.result.import.resourceIds[0];
    assert.deepEqual(ec2.callsOf('CopyImage').filter((c) => c.params.SourceImageId === src).map((c) => c.params.DryRun === 'true'), [false]);
    assert.ok(ec2.callsOf('ModifyImageAttribute').filter((c) => c.params.ImageId === src).every((c) => c.params.DryRun !== 'true'));
  });
});

/** The fake's copy (a CopyImage call's ClientToken names it) moves on to available at its next describe. */
function finishCopy(call: { params: Record<string, string | undefined> }): string {
  const id = world.ec2.world.tokens.get(call.params.ClientToken!)!;
  world.ec2.world.tasks.get(id)!.script = COPY_SCRIPT.slice(-1);
  return id;
}

const copyStates = (job: any) => job.cloudOutcome?.copies.map((c: any) => `${c.region}:${c.imageId}:${c.state}`);

async function untilOnDisk(d: TestDaemon, id: string, until: (rec: any) => boolean): Promise<any> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 20))) {
    const rec = JSON.parse(await readFile(join(d.stateDir, 'jobs', `${id}.json`), 'utf8').catch(() => 'null'));
    if (rec && until(rec)) return rec;
  }
  throw new Error(`job ${id}'s record on disk never matched`);
}

test('cloudOutcome while copying on the EC2 Query API protocol fake: one copy available and one copying in GET and on the feed, kept across kill -9, equal to result.import at completion', async () => {
  const { ec2 } = world;
  ec2.world.scripts.copy = PENDING;
  await withDaemon(async (d) => {
    const { ws, got } = await feed(d);
    const { id, ami } = await twoCopiesPending(d, { share: { accounts: [A] } });
    const [west, frankfurt] = ['us-west-2', 'eu-central-1'].map((region) => realCopiesOf(ami).find((c) => c.region === region)!);
    const westId = finishCopy(west!);
    const frankfurtId = ec2.world.tokens.get(frankfurt!.params.ClientToken!)!;
    const half = [`us-west-2:${westId}:available`, `eu-central-1:${frankfurtId}:copying`];
    const shown = await waitForJob(d, id, (j) => copyStates(j)?.join() === half.join() || until(['completed', 'failed'])(j), 10_000);
    assert.deepEqual(copyStates(shown), half, JSON.stringify(shown.cloudOutcome ?? shown.error));
    assert.equal(shown.state, 'active');
    assert.deepEqual([shown.cloudOutcome.target, shown.cloudOutcome.resourceIds], ['aws-image', [ami]]);
    assert.deepEqual(shown.cloudOutcome.shares, [], 'nothing shared while a copy runs');
    assert.equal(shown.result, null);

    // The feed carried each change of each copy as a "job" message.
    const seen = (region: string) => got.filter((m) => m.type === 'job' && m.job.id === id && m.job.cloudOutcome)
      .map((m) => m.job.cloudOutcome.copies.find((c: any) => c.region === region)?.state ?? 'none')
      .filter((s: string, i: number, a: string[]) => s !== a[i - 1]);
    assert.deepEqual(seen('us-west-2'), ['none', 'copying', 'available']);
    assert.deepEqual(seen('eu-central-1').filter((s: string) => s !== 'none'), ['copying']);
    await closeFeed(ws);

    // Once the record on disk holds it, a crash (SIGKILL) and a restart show the same outcome.
    await untilOnDisk(d, id, (rec) => copyStates(rec)?.join() === half.join());
    await d.kill();
    await d.restart();
    const after = (await d.api('GET', `/v1/jobs/${id}`)).json.job;
    assert.deepEqual(copyStates(after), half, JSON.stringify(after.cloudOutcome));

    const later = await feed(d);
    while (!later.got.some((m) => m.type === 'snapshot')) await new Promise((res) => setTimeout(res, 10));
    finishCopy(frankfurt!);
    const done = await waitForJob(d, id, until(['completed', 'failed', 'cancelled']));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    // Each image's shares were published while the job was still sharing, one image at a time.
    const sharedWhileActive = later.got.filter((m) => m.type === 'job' && m.job.id === id && m.job.state === 'active').map((m) => m.job.cloudOutcome.shares.length);
    assert.deepEqual(sharedWhileActive.filter((n, i, a) => n !== a[i - 1]), [0, 1, 2, 3]);
    await closeFeed(later.ws);
    assert.deepEqual(done.cloudOutcome.copies.map(({ region, imageId, state }: any) => ({ region, imageId, state })), done.result.import.copies.map((c: any) => ({ ...c, state: 'available' })));
    assert.deepEqual(done.cloudOutcome.shares, done.result.import.shares);
    assert.deepEqual(done.cloudOutcome.shares.map((s: any) => s.imageId), [ami, westId, frankfurtId]);
    const { copies: _c, shares: _s, ...ids } = done.result.import;
    assert.deepEqual({ ...done.cloudOutcome, copies: undefined, shares: undefined }, { ...ids, copies: undefined, shares: undefined });
  });
});
