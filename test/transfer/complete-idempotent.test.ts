import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { checkpointId } from '../../agent/transfer/upload-checkpoint.js';
import { DIGEST_TAG } from '../../agent/transfer/object-tags.js';
import { linearDigestByDocScript, sha256File } from '../helpers/hash.js';
import { vmxfer } from '../helpers/run-command.js';
import { jsonResult } from '../helpers/killable-cli.js';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../helpers/tmp.js';
import { tempDir } from '../helpers/tmp.js';
import { proxiedNetworkStores, type ProxiedStore } from '../helpers/transfer-stores.js';

/**
 * Completion is idempotent, through a fault proxy in front of RGW and of the OSS protocol server:
 * a Complete whose answer is lost after the store completed, and a --resume after the object was
 * completed but not yet tagged (the checkpoint still there), both finish with exit 0.
 */
let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
let stores: ProxiedStore[] = [];
let closeStores: (() => Promise<void>) | undefined;

before(async () => {
  work = await tempDir('vmxfer-complete-');
  source = join(work.dir, 'source.raw');
  await writeFile(source, randomBytes(3 * 5 * MiB - 1000));
  ({ stores, close: closeStores } = await proxiedNetworkStores('complete'));
});
after(async () => {
  await closeStores?.();
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
    assert.equal((await s.store.sink().getTags(key))[DIGEST_TAG], await linearDigestByDocScript(source), 'tagged after the confirmation');
    assert.ok(!existsSync(join(work.dir, 'state', 'checkpoints', `${checkpointId(source, s.store.url(key))}.json`)), 'checkpoint removed');
    await s.store.sink().deleteObject(key);
  });

  test(`store ${i}: kill -9 while tagging, then --resume: the tagging is finished and the checkpoint removed, no part sent`, async () => {
    const s = stores[i]!;
    const key = `complete/untagged-${randomBytes(3).toString('hex')}.raw`;
    const cp = join(work.dir, 'state', 'checkpoints', `${checkpointId(source, s.store.url(key))}.json`);
    // The store completes the object; its PutObjectTagging is held, and the CLI is killed while it waits.
    s.proxy.setPlan((r) => (isTagging(r) ? { kind: 'stall', ms: 600_000 } : undefined));
    const killed = await killWhen(args(s, key), s.store.cliEnv, () => s.proxy.log.some((e) => e.fault === 'stall' && e.url.includes(key.split('/')[1]!)));
    s.proxy.setPlan(undefined);
    assert.equal(killed, 'SIGKILL', 'killed while tagging');
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
    assert.equal((await s.store.sink().getTags(key))[DIGEST_TAG], await linearDigestByDocScript(source), 'the tagging was finished');
    assert.ok(!existsSync(cp), 'checkpoint removed');
    await s.store.sink().deleteObject(key);
  });
}

/** Runs the real CLI and kill -9s it once `due` (polled every 10 ms) says so; resolves with the signal that ended it. */
async function killWhen(cliArgs: string[], env: NodeJS.ProcessEnv, due: () => boolean): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), ...cliArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let ended = false;
  void exited.then(() => (ended = true));
  while (!due()) {
    if (ended) throw new Error(`vmxfer ended before the kill point: ${stderr}`);
    await sleep(10);
  }
  child.kill('SIGKILL');
  return exited;
}
