import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

const pexec = promisify(execFile);
const UNIT = join(REPO_ROOT, 'config', 'vmxfer.service');

/** systemd-analyze prints warnings (unknown values are "ignored") yet exits 0: any output is a failure. */
async function verify(path: string): Promise<{ ok: boolean; output: string } | undefined> {
  try {
    const r = await pexec('systemd-analyze', ['verify', path]);
    return { ok: (r.stdout + r.stderr).trim() === '', output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') return undefined;
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('config/vmxfer.service passes systemd-analyze verify and carries the required hardening', async (t) => {
  const r = await verify(UNIT);
  if (!r) return t.skip('systemd-analyze is not installed (Debian package systemd)');
  assert.ok(r.ok, r.output);
  const text = await readFile(UNIT, 'utf8');
  for (const line of ['Type=exec', 'Restart=on-failure', 'User=vmxfer', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'ReadWritePaths=/var/lib/vmxfer', 'StateDirectory=vmxfer']) {
    assert.match(text, new RegExp(`^${line}$`, 'm'), line);
  }
  assert.match(text, /^ExecStart=.* daemon --config \/etc\/vmxfer\/vmxfer\.yaml$/m);
  // The check is real: a typo in the unit is reported.
  const { dir, cleanup } = await tempDir();
  try {
    const bad = join(dir, 'vmxfer.service');
    await writeFile(bad, text.replace('Type=exec', 'Type=exex'));
    assert.equal((await verify(bad))!.ok, false);
  } finally {
    await cleanup();
  }
});
