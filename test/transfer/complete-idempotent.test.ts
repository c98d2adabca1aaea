import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { SHA256_TAG } from '../../agent/transfer/object-tags.js';
import { sha256File } from '../helpers/hash.js';
import { vmxfer } from '../helpers/run-command.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { ossStore, s3Store, type TestStore } from '../helpers/transfer-stores.js';

/**
 * Completion is idempotent, through a fault proxy in front of RGW and of the OSS protocol server:
 * a Complete whose answer is lost after the store completed, and a --resume after the object was
 * completed but not yet tagged (the checkpoint still there), both finish with exit 0.
 */
let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
const stores: Array<{ name: string; store: TestStore; proxy: FaultProxy }> = [];

before(async () => {
  work = await tempDir('vmxfer-complete-');
  source = join(work.dir, 'source.raw');
  await writeFile(source, randomBytes(3 * 5 * MiB - 1000));
  const s3 = await s3Store('complete');
  const oss = await ossStore('vmxfer-complete');
  stores.push({ name: 's3 (RGW)', store: s3, proxy: await startFaultProxy(s3.env.endpoint) });
  stores.push({ name: 'oss (protocol server)', store: oss, proxy: await startFaultProxy(oss.fake.endpoint) });
});
after(async () => {
  for (const s of stores) {
    await s.proxy.close();
    await s.store.close();
  }
  await work?.cleanup();
});

function args(s: (typeof stores)[number], key: string, extra: string[] = []): string[] {
  return ['upload', source, s.store.url(key), '--part-size', '5MiB', '--state-dir', join(work.dir, 'state'), '--endpoint', s.proxy.endpoint, '--path-style', '--json', ...extra];
}

const isComplete = (r: { method: string; url: string }) => r.method === 'POST' && /[?&]uploadId=/.test(r.url);
const isTagging = (r: { method: string; url: string }) => r.method === 'PUT' && /[?&]tagging/.test(r.url);

for (const i of [0, 1]) {
  test(`store ${i}: a Complete whose answer is lost after the store completed is confirmed by HEAD and the local checksum: exit 0`, async () => {
    const s = stores[i]!;
    const key = `complete/lost-${randomBytes(3).toString('hex')}.raw`;
    s.proxy.setPlan((r) => (isComplete(r) ? { kind: 'drop-answer' } : undefined));
    const run = await vmxfer(args(s, key), { env: s.store.cliEnv });
    s.proxy.setPlan(undefined);
    assert.ok(s.proxy.log.some((e) => e.fault === 'drop-answer'), `${s.name}: the Complete answer was dropped`);
    assert.equal(run.code, 0, `${s.name}: ${run.stderr}`);
    const result = jsonResult(run);
    assert.notEqual(result.verified, 'size', 'a checksum vouched for the object');
    assert.equal(await s.store.objectSha256(key), await sha256File(source));
    assert.equal((await s.store.sink().getTags(key))[SHA256_TAG], await sha256File(source), 'tagged after the confirmation');
    assert.ok(!existsSync(join(work.dir, 'state', 'checkpoints', `${checkpointId(source, s.store.url(key))}.json`)), 'checkpoint removed');
    await s.store.sink().deleteObject(key);
  });

  test(`store ${i}: --resume after the object was completed but not tagged finishes the tagging and removes the checkpoint, sending no part`, async () => {
    const s = stores[i]!;
    const key = `complete/untagged-${randomBytes(3).toString('hex')}.raw`;
    const cp = join(work.dir, 'state', 'checkpoints', `${checkpointId(source, s.store.url(key))}.json`);
    // A refused PutObjectTagging leaves what a kill -9 while tagging leaves: a completed object, no tags, the checkpoint.
    s.proxy.setPlan((r) => (isTagging(r) ? { kind: 'status', status: 403, code: 'AccessDenied' } : undefined));
    const first = await vmxfer(args(s, key), { env: s.store.cliEnv });
    s.proxy.setPlan(undefined);
    assert.equal(first.code, EXIT_CODES.remote, first.stderr);
    assert.ok(existsSync(cp), 'the checkpoint outlived the completed upload');
    assert.equal(await s.store.objectSha256(key), await sha256File(source), 'the object was completed');
    const cursor = s.proxy.log.length;
    const resumed = await vmxfer(args(s, key, ['--resume']), { env: s.store.cliEnv });
    assert.equal(resumed.code, 0, `${s.name}: ${resumed.stderr}`);
    const result = jsonResult(resumed);
    assert.equal(result.partsSent, 0);
    assert.equal(result.partsSkipped, 3);
    assert.deepEqual(s.proxy.log.slice(cursor).filter((e) => e.method === 'PUT' && e.partNumber !== undefined), [], 'no part sent again');
    assert.ok(!s.proxy.log.slice(cursor).some(isComplete), 'no second Complete');
    assert.equal((await s.store.sink().getTags(key))[SHA256_TAG], await sha256File(source), 'the tagging was finished');
    assert.ok(!existsSync(cp), 'checkpoint removed');
    await s.store.sink().deleteObject(key);
  });
}
