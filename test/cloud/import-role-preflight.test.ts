import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { vmxfer } from '../helpers/run-command.js';
import { qemuImg } from '../helpers/qemu.js';
import { startDaemon, waitForJob, type TestDaemon } from '../helpers/daemon.js';
import { getObjectBytes, pendingUploads } from '../helpers/s3-object.js';
import { importWorld, type ImportWorld } from '../helpers/import-world.js';
import { VMIMPORT_TRUST } from '../helpers/ec2-query-fake/server.js';

let w: ImportWorld;
/** A VHDX whose header claims 9 TiB: 10 MiB on disk (qemu-img create), over the 8 TiB manifest limit. */
let huge: string;

before(async () => {
  w = await importWorld('import-role', 4);
  huge = join(w.dir, 'huge.vhdx');
  await qemuImg(['create', '-q', '-f', 'vhdx', huge, '9T']);
});
after(() => w?.close());

function awsEnv() {
  return { AWS_ACCESS_KEY_ID: w.rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: w.rgw.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: '', AWS_EC2_METADATA_DISABLED: 'true' };
}

function upload(src: string, key: string, extra: string[]) {
  const args = ['upload', src, `s3://${w.bucket.name}/${key}`, '--endpoint', w.rgw.endpoint, '--path-style', '--region', 'us-east-1', '--workers', '0', '--cloud-endpoint', w.ec2.url, '--poll-seconds', '0.005', ...extra];
  return vmxfer(args, { env: awsEnv() });
}

async function absent(key: string): Promise<void> {
  await assert.rejects(getObjectBytes(w.bucket.client, w.bucket.name, key), /NoSuchKey|does not exist/);
  assert.equal(await pendingUploads(w.bucket.client, w.bucket.name, key), 0, 'no multipart upload was started');
}

/** The ImportImage calls since `from`, as "dry" / "real". */
function importCalls(from: number, action = 'ImportImage'): string[] {
  return w.ec2.calls.slice(from).filter((c) => c.action === action).map((c) => (c.params.DryRun === 'true' ? 'dry' : 'real'));
}

async function withoutRole<T>(fn: () => Promise<T>): Promise<T> {
  w.ec2.world.roles.delete('vmimport');
  try {
    return await fn();
  } finally {
    w.ec2.world.roles.set('vmimport', VMIMPORT_TRUST);
  }
}

test('upload --import with the vmimport role missing on the EC2 Query API protocol fake: IAM GetRole refuses it before any byte reaches RGW; --no-role-check proceeds and the DryRun then stops the import', async () => {
  await withoutRole(async () => {
    const key = `norole/${randomBytes(3).toString('hex')}.raw`;
    const from = w.ec2.calls.length;
    const r = await upload(w.raw, key, ['--import', 'aws-image']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /ERROR \[NoSuchEntity\] the role vmimport does not exist — Create the role vmimport/);
    assert.match(r.stderr, /CLOUD_PREFLIGHT_FAILED/);
    assert.equal(w.ec2.calls.slice(from).filter((c) => c.action === 'GetRole').length, 1);
    await absent(key);
    assert.deepEqual(importCalls(from), []);

    const at = w.ec2.calls.length;
    const skipped = await upload(w.raw, key, ['--import', 'aws-image', '--no-role-check']);
    assert.equal(skipped.code, 7, skipped.stderr);
    assert.match(skipped.stderr, /ImportImage failed: InvalidParameter: The service role vmimport provided does not exist/);
    assert.equal(w.ec2.calls.slice(at).filter((c) => c.action === 'GetRole').length, 0, '--no-role-check asks IAM nothing');
    assert.equal((await getObjectBytes(w.bucket.client, w.bucket.name, key)).length, 4 * 1024 * 1024, 'the upload ran');
    assert.deepEqual(importCalls(at), ['dry'], 'the refused DryRun stops before the real ImportImage');
  });
});

test('upload --import when the caller may not call iam:GetRole: a WARNING [AccessDenied], then DryRun and the real ImportImage on the fake; --no-dry-run makes no DryRun call', async () => {
  w.ec2.denied.add('iam:GetRole');
  try {
    const from = w.ec2.calls.length;
    const r = await upload(w.raw, `denied/${randomBytes(3).toString('hex')}.raw`, ['--import', 'aws-snapshot']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARNING \[AccessDenied\] the role vmimport could not be verified: GetRole was refused \(AccessDenied\) — Grant iam:GetRole/);
    assert.deepEqual(importCalls(from, 'ImportSnapshot'), ['dry', 'real'], 'DryRun is on by default and comes first');
  } finally {
    w.ec2.denied.delete('iam:GetRole');
  }
  const from = w.ec2.calls.length;
  const r = await upload(w.raw, `nodry/${randomBytes(3).toString('hex')}.raw`, ['--import', 'aws-image', '--no-dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /WARNING/);
  assert.deepEqual(importCalls(from), ['real']);
});

test('upload --import when the caller lacks ec2:ImportImage: the DryRun answers UnauthorizedOperation and no real ImportImage is made', async () => {
  w.ec2.denied.add('ec2:ImportImage');
  try {
    const from = w.ec2.calls.length;
    const tasks = w.ec2.world.tasks.size;
    const r = await upload(w.raw, `unauth/${randomBytes(3).toString('hex')}.raw`, ['--import', 'aws-image']);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /ImportImage failed: UnauthorizedOperation/);
    assert.deepEqual(importCalls(from), ['dry']);
    assert.equal(w.ec2.world.tasks.size, tasks, 'no import task was created');
  } finally {
    w.ec2.denied.delete('ec2:ImportImage');
  }
});

test('a 9 TiB source (sparse VHDX header): upload --import refuses it without --manifest before any byte; with --manifest it uploads and imports', async () => {
  const key = `huge/${randomBytes(3).toString('hex')}.vhdx`;
  const refused = await upload(huge, key, ['--import', 'aws-image', '--as', 'original']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /ERROR \[ClientError\] .*huge\.vhdx: 9895604649984 bytes is over 8 TiB and no import manifest was given/);
  await absent(key);
  const from = w.ec2.calls.length;
  const ok = await upload(huge, key, ['--import', 'aws-image', '--as', 'original', '--manifest']);
  assert.equal(ok.code, 0, ok.stderr);
  const real = w.ec2.calls.slice(from).filter((c) => c.action === 'ImportImage' && c.params.DryRun === 'false');
  assert.equal(real.length, 1);
  assert.equal(real[0]!.params['DiskContainer.1.Format'], 'VHDX');
  assert.ok(!Object.keys(real[0]!.params).some((k) => /manifest/i.test(k)), 'ImportImage has no manifest parameter: nothing is sent');
  const usage = await vmxfer(['upload', huge, `s3://${w.bucket.name}/${key}`, '--manifest'], { env: awsEnv() });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--manifest needs --import/);
});

function daemon(): Promise<TestDaemon> {
  return startDaemon({
    sourceRoots: [w.dir],
    env: { AWS_ACCESS_KEY_ID: w.rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: w.rgw.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' },
    config: { stores: { s3_endpoint: w.rgw.endpoint, s3_region: 'us-east-1', s3_path_style: true }, cloud: { aws_endpoint: w.ec2.url, poll_seconds: 0.01 } },
  });
}

async function runJob(d: TestDaemon, source: string, key: string, format: string, cloudImport: Record<string, unknown>): Promise<any> {
  const r = await d.api('POST', '/v1/jobs', { source, destination: `s3://${w.bucket.name}/${key}`, format, import: cloudImport });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return waitForJob(d, r.json.job.id, (j) => ['completed', 'failed'].includes(j.state));
}

test('API import jobs: a missing role fails the job at validation with NoSuchEntity and no object; checkRole/dryRun false go on to the real ImportImage; import.manifest lifts the 8 TiB refusal', async () => {
  const d = await daemon();
  try {
    await withoutRole(async () => {
      const key = `job-norole/${randomBytes(3).toString('hex')}.vmdk`;
      const failed = await runJob(d, w.raw, key, 'vmdk', { target: 'aws-image' });
      assert.equal(failed.state, 'failed');
      assert.equal(failed.error.code, 'CLOUD_PREFLIGHT_FAILED');
      assert.match(failed.error.message, /ERROR \[NoSuchEntity\] the role vmimport does not exist/);
      assert.equal(failed.progress.bytesWritten, 0);
      await absent(key);

      const from = w.ec2.calls.length;
      const skipped = await runJob(d, w.raw, key, 'vmdk', { target: 'aws-image', checkRole: false, dryRun: false });
      assert.equal(skipped.state, 'failed');
      assert.match(skipped.error.message, /InvalidParameter: The service role vmimport provided does not exist/);
      assert.equal((await getObjectBytes(w.bucket.client, w.bucket.name, key)).subarray(0, 4).toString('latin1'), 'KDMV', 'the upload ran');
      assert.deepEqual(importCalls(from), ['real']);
      assert.equal(w.ec2.calls.slice(from).filter((c) => c.action === 'GetRole').length, 0);
    });
    const hugeKey = `job-huge/${randomBytes(3).toString('hex')}.vhdx`;
    const refused = await runJob(d, huge, hugeKey, 'original', { target: 'aws-image' });
    assert.equal(refused.state, 'failed');
    assert.match(refused.error.message, /ERROR \[ClientError\] .*over 8 TiB and no import manifest was given/);
    await absent(hugeKey);
    const accepted = await runJob(d, huge, hugeKey, 'original', { target: 'aws-image', manifest: true });
    assert.equal(accepted.state, 'completed', JSON.stringify(accepted.error));
    assert.match(accepted.result.import.resourceIds[0], /^ami-/);
    for (const [body, field] of [[{ target: 'aws-image', checkRole: 'no' }, 'import.checkRole'], [{ target: 'aws-image', dryRun: 1 }, 'import.dryRun'], [{ target: 'ecs-image', imageName: 'web01', manifest: true }, 'import.manifest']] as const) {
      const r = await d.api('POST', '/v1/jobs', { source: w.raw, destination: `${field === 'import.manifest' ? 'oss' : 's3'}://${w.bucket.name}/never`, format: 'vmdk', import: body });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.equal(r.json.error.field, field);
    }
  } finally {
    await d.stop();
  }
});

test('an API import job whose caller may not call iam:GetRole: the job goes on and shows the role-unverified warning in GET and on its record', async () => {
  const d = await daemon();
  w.ec2.denied.add('iam:GetRole');
  try {
    const job = await runJob(d, w.raw, `job-denied/${randomBytes(3).toString('hex')}.vmdk`, 'vmdk', { target: 'aws-image' });
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const warning = job.preflight?.find((f: { cloudCode: string }) => f.cloudCode === 'AccessDenied');
    assert.ok(warning, JSON.stringify(job.preflight));
    assert.equal(warning.severity, 'warning');
    assert.match(warning.message, /the role vmimport could not be verified/);
    assert.match(d.output(), /preflight warning: the role vmimport could not be verified/);
  } finally {
    w.ec2.denied.delete('iam:GetRole');
    await d.stop();
  }
});
