import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { sha256File } from '../helpers/hash.js';
import { vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';
import { proxiedNetworkStores, type ProxiedStore } from '../helpers/transfer-stores.js';

/**
 * A store that accepts a request and never answers (a proxy holding it) stalls one part: with
 * --stall-timeout 1 the real CLI abandons each stalled attempt after a second, retries, reports
 * `stalled: true` in its progress while no byte moves, and finishes once the store answers again.
 */
let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
let stores: ProxiedStore[] = [];
let closeStores: (() => Promise<void>) | undefined;

before(async () => {
  work = await tempDir('vmxfer-stalls-');
  source = join(work.dir, 'source.raw');
  await writeFile(source, randomBytes(2 * 5 * MiB + 4096));
  ({ stores, close: closeStores } = await proxiedNetworkStores('stalls'));
});
after(async () => {
  await closeStores?.();
  await work?.cleanup();
});

for (const i of [0, 1]) {
  test(`store ${i}: a part the store never answers is abandoned after --stall-timeout, retried, and shown as stalled until bytes move`, async () => {
    const s = stores[i]!;
    const key = `stalls/part-${randomBytes(3).toString('hex')}.raw`;
    let held = 3;
    s.proxy.setPlan((r) => (r.method === 'PUT' && r.partNumber === 2 && held-- > 0 ? { kind: 'stall', ms: 600_000 } : undefined));
    const started = Date.now();
    const run = await vmxfer(['upload', source, s.store.url(key), '--part-size', '5MiB', '--concurrency', '1', '--state-dir', join(work.dir, 'state'), '--endpoint', s.proxy.endpoint, '--path-style', '--stall-timeout', '1', '--json'], { env: s.store.cliEnv });
    const seconds = (Date.now() - started) / 1000;
    s.proxy.setPlan(undefined);
    assert.equal(run.code, 0, `${s.name}: ${run.stderr}`);
    assert.ok(seconds < 60, `finished in ${seconds} s, not minutes`);
    const progress = run.stdout.split('\n').filter((l) => l.startsWith('{"type":"progress"')).map((l) => JSON.parse(l) as { stalled?: boolean; phase: string });
    assert.ok(progress.some((p) => p.stalled === true), `${s.name}: a progress line shows stalled`);
    assert.notEqual(progress[progress.length - 1]!.stalled, true, 'the last progress line is no longer stalled');
    const attempts = s.proxy.log.filter((e) => e.method === 'PUT' && e.partNumber === 2 && e.url.includes(key.split('/')[1]!));
    assert.equal(attempts.length, 4, 'three stalled attempts, then the one answered');
    assert.equal(await s.store.objectSha256(key), await sha256File(source));
    await s.store.sink().deleteObject(key);
  });
}

test('--stall-timeout that is not a positive number of seconds is a usage error before anything is sent', async () => {
  const s = stores[1]!;
  const cursor = s.proxy.log.length;
  for (const bad of ['0', '-3', 'soon']) {
    const run = await vmxfer(['upload', source, s.store.url('stalls/never.raw'), '--endpoint', s.proxy.endpoint, '--path-style', `--stall-timeout=${bad}`, '--state-dir', join(work.dir, 'state')], { env: s.store.cliEnv });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /--stall-timeout expects a positive number of seconds/);
  }
  assert.equal(s.proxy.log.length, cursor, 'no request reached the store');
});
