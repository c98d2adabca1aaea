import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

const pexec = promisify(execFile);

/** config/vmxfer.service is scored offline by systemd-analyze security (scripts/install-test-deps.sh installs it). */
test('config/vmxfer.service: systemd-analyze security exposure is at most 2.5', async (t) => {
  const found = await pexec('systemd-analyze', ['--version']).catch(() => undefined);
  if (!found) {
    t.skip('systemd-analyze is not installed (scripts/install-test-deps.sh installs it): the unit is not scored');
    return;
  }
  const { dir, cleanup } = await tempDir();
  try {
    // The unit is scored by its file name: copied as vmxfer.service outside the repository.
    const unit = join(dir, 'vmxfer.service');
    await copyFile(join(REPO_ROOT, 'config', 'vmxfer.service'), unit);
    const { stdout } = await pexec('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { maxBuffer: 4 << 20 });
    const m = /Overall exposure level for vmxfer\.service: (\d+\.\d+)/.exec(stdout);
    assert.ok(m, stdout.slice(-500));
    assert.ok(Number(m[1]) <= 2.5, `exposure ${m[1]} > 2.5:\n${stdout.split('\n').filter((l) => l.startsWith('✗')).join('\n')}`);
    t.diagnostic(`exposure ${m[1]}`);
  } finally {
    await cleanup();
  }
});
