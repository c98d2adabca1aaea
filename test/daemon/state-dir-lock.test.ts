import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../helpers/daemon.js';

test('a second daemon on the same state_dir is refused (DAEMON_STATE_DIR_IN_USE) while the first runs; a killed daemon\'s lock is taken over; a stopped one leaves none', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'vmxfer-lock-'));
  const first = await startDaemon({ stateDir });
  try {
    const refused = await startDaemon({ stateDir }).then(
      async (dup) => (await dup.kill(), undefined),
      (err: Error) => err,
    );
    assert.ok(refused, 'the second daemon must not start');
    assert.match(refused.message, /exited with 2 before it was ready/);
    assert.match(refused.message, /DAEMON_STATE_DIR_IN_USE/);
    assert.match(refused.message, new RegExp(`pid ${first.pid}`));
    assert.equal((await first.api('GET', '/v1/jobs')).status, 200, 'the first daemon runs on');
    await first.kill();
    const second = await startDaemon({ stateDir });
    assert.equal(await second.stop(), 0);
    await assert.rejects(stat(join(stateDir, 'daemon.lock')), 'a clean stop releases the lock');
  } finally {
    await first.kill().catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
});
