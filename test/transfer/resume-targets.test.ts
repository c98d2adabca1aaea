import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { MiB } from '../../agent/core/units.js';
import { QEMU_MISSING, qemuImg } from '../helpers/qemu.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { jsonResult, runAndKill } from '../helpers/killable-cli.js';
import { getObjectBytes } from '../helpers/s3-object.js';
import { ossStore, s3Store, type TestStore } from '../helpers/transfer-stores.js';

/**
 * Every `--as` target on S3 (RGW, behind a counting pass-through proxy) and OSS (the protocol
 * server, which logs its requests): the real CLI is killed with -9 once its checkpoint lists two
 * confirmed parts, then `--resume` finishes it. The object must equal, byte for byte, the object an
 * uninterrupted upload of the same source with the same options makes (same image identity), must
 * pass qemu-img compare against the source, and no part confirmed at the kill may reach the server again.
 */
const TARGETS = ['original', 'raw', 'vmdk', 'vhd', 'vhd-fixed', 'qcow2', 'ova'] as const;
type Target = (typeof TARGETS)[number];
/** qemu-img's name for each target's output (an OVA's disk member is a stream-optimized VMDK). */
const QEMU_FORMAT: Record<Target, string> = { original: 'qcow2', raw: 'raw', vmdk: 'vmdk', vhd: 'vpc', 'vhd-fixed': 'vpc', qcow2: 'qcow2', ova: 'vmdk' };

let work: { dir: string; cleanup: () => Promise<void> };
let raw: string;
let source: string;
let s3: Awaited<ReturnType<typeof s3Store>>;
let oss: Awaited<ReturnType<typeof ossStore>>;
let proxy: FaultProxy;

before(async () => {
  work = await tempDir('vmxfer-resume-targets-');
  raw = join(work.dir, 'disk.raw');
  // 18 MiB: random data (so compressed targets stay over three 5 MiB parts) with a zero gap of
  // 2 MiB that sparse targets leave out; the source is a qcow2 so every target is a real conversion.
  const bytes = randomBytes(18 * MiB);
  bytes.fill(0, 8 * MiB, 10 * MiB);
  await writeFile(raw, bytes);
  source = join(work.dir, 'disk.qcow2');
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, source]);
  s3 = await s3Store('resume-targets');
  oss = await ossStore('vmxfer-resume-targets');
  proxy = await startFaultProxy(s3.env.endpoint);
});
after(async () => {
  await proxy?.close();
  await s3?.close();
  await oss?.close();
  await work?.cleanup();
});

function uploadArgs(store: TestStore, key: string, as: Target, extra: string[]): string[] {
  const endpoint = store === s3 ? proxy.endpoint : undefined;
  return ['upload', source, store.url(key), '--as', as, '--part-size', '5MiB', '--concurrency', '2', '--state-dir', join(work.dir, 'state'), ...store.cliFlags(endpoint), ...extra];
}

function serverLogLength(store: TestStore): number {
  return store === s3 ? proxy.log.length : oss.fake.requests.length;
}

/** Successful UploadPart requests per part number for `key`, from log position `from`. */
function serverPartPuts(store: TestStore, key: string, from: number): Map<number, number> {
  const m = new Map<number, number>();
  const add = (n: number) => m.set(n, (m.get(n) ?? 0) + 1);
  if (store === s3) {
    for (const e of proxy.log.slice(from)) if (e.method === 'PUT' && e.partNumber !== undefined && e.status === 200 && e.url.startsWith(`/${s3.bucket.name}/${key}?`)) add(e.partNumber);
  } else {
    for (const r of oss.fake.requests.slice(from)) {
      if (r.operation === 'UploadPart' && r.status === 200 && r.url.includes(`/${key}?`)) add(Number(new URL(r.url, 'http://x').searchParams.get('partNumber')));
    }
  }
  return m;
}

async function objectBytes(store: TestStore, key: string): Promise<Buffer> {
  if (store === s3) return getObjectBytes(s3.bucket.client, s3.bucket.name, key);
  const obj = oss.fake.store.bucket('vmxfer-resume-targets').objects.get(key);
  assert.ok(obj, `no object ${key} in the OSS protocol server`);
  return Buffer.from(obj.body);
}

/** qemu-img compare of the uploaded object against the raw disk (an OVA's VMDK member is extracted by tar(1) first). */
async function compareWithSource(bytes: Buffer, as: Target, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  let image = join(dir, 'object');
  await writeFile(image, bytes);
  if (as === 'ova') {
    await run('tar', ['-xf', image, '-C', dir]);
    const member = (await readdir(dir)).find((n) => n.endsWith('.vmdk'));
    assert.ok(member, 'the OVA holds a VMDK member');
    image = join(dir, member);
  }
  await qemuImg(['compare', '-q', '-f', QEMU_FORMAT[as], '-F', 'raw', image, raw]);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const name of ['s3', 'oss'] as const) {
  describe(`${name}: kill -9 after two confirmed parts, --resume, for every --as target`, { skip: QEMU_MISSING }, () => {
    for (const as of TARGETS) {
      test(`${name} --as ${as}: the resumed object equals an uninterrupted upload's, passes qemu-img compare, and no confirmed part is sent again`, async () => {
        const store = name === 's3' ? s3 : oss;
        const tag = randomBytes(3).toString('hex');
        const key = `targets/${as}-${tag}`;
        const cp = join(work.dir, 'state', 'checkpoints', `${checkpointId(source, store.url(key))}.json`);
        // The rate limit makes a part take ~0.4 s, so the kill lands with parts still to send.
        const kill = await runAndKill(uploadArgs(store, key, as, ['--bwlimit', '12MiB']), store.cliEnv, cp, 2);
        assert.ok(!kill.finished && kill.confirmed.length >= 2, `killed after ${kill.confirmed.length} confirmed parts`);
        const cursor = serverLogLength(store);
        const resumed = await vmxfer([...uploadArgs(store, key, as, ['--resume']), '--json'], { env: store.cliEnv });
        assert.equal(resumed.code, 0, resumed.stderr);
        const result = jsonResult(resumed);
        assert.ok(result.parts >= 3, `${result.parts} parts`);
        assert.equal(result.partsSkipped, kill.confirmed.length, 'every part confirmed at the kill regenerated byte-identically and was skipped');
        const again = serverPartPuts(store, key, cursor);
        for (const n of kill.confirmed) assert.equal(again.get(n) ?? 0, 0, `part ${n} was confirmed before the kill and was sent again`);
        assert.ok(!existsSync(cp), 'the checkpoint is deleted once the upload is verified');

        const whole = await vmxfer([...uploadArgs(store, `${key}.whole`, as, []), '--json'], { env: store.cliEnv });
        assert.equal(whole.code, 0, whole.stderr);
        const object = await objectBytes(store, key);
        assert.equal(sha256(object), sha256(await objectBytes(store, `${key}.whole`)), 'the resumed object equals an uninterrupted upload of the same source and options');
        await compareWithSource(object, as, join(work.dir, `cmp-${name}-${as}-${tag}`));
        await store.sink().deleteObject(key);
        await store.sink().deleteObject(`${key}.whole`);
      });
    }
  });
}
