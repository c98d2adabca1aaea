import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../agent/config/schema.js';
import { startDaemon } from '../helpers/daemon.js';
import { run, vmxfer } from '../helpers/run-command.js';

test('vmxfer health asks /healthz at the configured port over TLS, without a token; exit 7 once the daemon is gone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-health-'));
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  const d = await startDaemon({ config: { listen: { tls_cert: cert, tls_key: key } } });
  try {
    assert.ok(d.url.startsWith('https://'));
    assert.notEqual(new URL(d.url).port, String(DEFAULTS.listen.port), 'the helper picks a free, non-default port');
    const env = { VMXFER_TOKEN: '' };
    const ok = await vmxfer(['health', '--config', d.configFile, '--json'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { type: 'result', url: d.url, status: 'ok' });
    const plain = await vmxfer(['health', '--url', d.url.replace('https', 'http')], { env });
    assert.equal(plain.code, 7, 'plain HTTP to the TLS listener is not healthy');
  } finally {
    await d.stop();
  }
  const gone = await vmxfer(['health', '--config', d.configFile], { env: { VMXFER_TOKEN: '' } });
  assert.equal(gone.code, 7, gone.stderr);
  assert.match(gone.stderr, /API_DAEMON_UNREACHABLE/);
  await rm(d.stateDir, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});
