import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../../agent/config/load-config.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import { connectionFor } from '../../agent/jobs/run-context.js';
import { defaultAgentName, defaultStateDir } from '../../agent/config/default-paths.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';
import { VmxferError } from '../../agent/core/errors.js';

test('config/vmxfer.yaml documents exactly the built-in defaults', async () => {
  // state_dir's default ("") resolves to the XDG state directory, as for the CLI.
  assert.deepEqual(await loadConfig(join(REPO_ROOT, 'config', 'vmxfer.yaml'), {}), { ...DEFAULTS, state_dir: defaultStateDir({}), agent: { name: defaultAgentName() } });
});

test('environment variables override the file, flags override both', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const f = join(dir, 'c.yaml');
    await writeFile(f, 'listen:\n  port: 9000\ntransfer:\n  part_size: 32MiB\n');
    const c = await loadConfig(f, { VMXFER_LISTEN_PORT: '9100', VMXFER_TRANSFER_CONCURRENCY: '8' }, { 'listen.host': '0.0.0.0' });
    assert.equal(c.listen.port, 9100);
    assert.equal(c.transfer.part_size, 32 * 1024 * 1024);
    assert.equal(c.transfer.concurrency, 8);
    assert.equal(c.listen.host, '0.0.0.0');
  } finally {
    await cleanup();
  }
});

test('an unknown key and a bad value are refused with a message naming the key', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const f = join(dir, 'c.yaml');
    await writeFile(f, 'jobs:\n  max_concurent: 3\n');
    await assert.rejects(loadConfig(f, {}), (e: VmxferError) => e.code === 'CONFIG_UNKNOWN_KEY' && /jobs\.max_concurent/.test(e.message) && e.file === f);
    await writeFile(f, 'listen:\n  port: 70000\n');
    await assert.rejects(loadConfig(f, {}), (e: VmxferError) => e.code === 'CONFIG_BAD_VALUE' && /listen\.port/.test(e.message));
    await assert.rejects(loadConfig(undefined, { VMXFER_PIPELINE_WORKERS: 'many' }), (e: VmxferError) => e.code === 'CONFIG_BAD_VALUE' && /VMXFER_PIPELINE_WORKERS/.test(e.message));
    await writeFile(f, 'listen: [1, 2\n');
    await assert.rejects(loadConfig(f, {}), (e: VmxferError) => e.code === 'CONFIG_UNREADABLE');
  } finally {
    await cleanup();
  }
});

test('transfer.stall_timeout (seconds; VMXFER_TRANSFER_STALL_TIMEOUT) reaches every store connection the agent opens', async () => {
  const c = await loadConfig(undefined, { VMXFER_TRANSFER_STALL_TIMEOUT: '7.5' });
  assert.equal(c.transfer.stall_timeout, 7.5);
  assert.equal(connectionFor('s3://b/k', c).stallTimeoutMs, 7500);
  assert.equal(connectionFor('oss://b/k', c).stallTimeoutMs, 7500);
  assert.equal(connectionFor('s3://b/k', await loadConfig(undefined, {})).stallTimeoutMs, 45_000, 'default 45 s');
  await assert.rejects(loadConfig(undefined, { VMXFER_TRANSFER_STALL_TIMEOUT: '0' }), (e: VmxferError) => e.code === 'CONFIG_BAD_VALUE' && /VMXFER_TRANSFER_STALL_TIMEOUT/.test(e.message));
});

test('job_store and agent.name: defaults, VMXFER_JOB_STORE_URL and VMXFER_AGENT_NAME, and bad values refused naming the key', async () => {
  const plain = await loadConfig(undefined, {});
  assert.deepEqual(plain.job_store, { url: '', prefix: 'vmxfer', lease_seconds: 60 });
  assert.equal(plain.agent.name, defaultAgentName());
  const c = await loadConfig(undefined, { VMXFER_JOB_STORE_URL: 'redis://:pw@10.0.0.5:6379/2', VMXFER_AGENT_NAME: 'esx-site-b', VMXFER_JOB_STORE_LEASE_SECONDS: '20' });
  assert.equal(c.job_store.url, 'redis://:pw@10.0.0.5:6379/2');
  assert.equal(c.job_store.lease_seconds, 20);
  assert.equal(c.agent.name, 'esx-site-b');
  await assert.rejects(loadConfig(undefined, { VMXFER_JOB_STORE_URL: 'postgres://db/x' }), (e: VmxferError) => e.code === 'CONFIG_BAD_VALUE' && /job_store\.url/.test(e.message));
  await assert.rejects(loadConfig(undefined, { VMXFER_AGENT_NAME: 'a b' }), (e: VmxferError) => e.code === 'CONFIG_BAD_VALUE' && /agent\.name/.test(e.message));
  await assert.rejects(loadConfig(undefined, { VMXFER_JOB_STORE_LEASE_SECONDS: '1' }), (e: VmxferError) => e.code === 'CONFIG_BAD_VALUE' && /lease_seconds/.test(e.message));
});
