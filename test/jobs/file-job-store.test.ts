import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileJobStore } from '../../agent/jobs/file-job-store.js';
import { newJobId, jobIdTime, isJobId } from '../../agent/jobs/job-id.js';
import { emptyProgress } from '../../agent/jobs/job-types.js';
import { jobStoreConformance } from './job-store-conformance.js';

const here = dirname(fileURLToPath(import.meta.url));

jobStoreConformance('FileJobStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-jobstore-'));
  const stores: FileJobStore[] = [await FileJobStore.open(dir)];
  return {
    store: stores[0]!,
    reopenAfterCrash: async () => {
      const s = await FileJobStore.open(dir);
      stores.push(s);
      return s;
    },
    spawnWriter: () => spawn(process.execPath, [join(here, 'job-store-writer.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] }),
    dispose: async () => {
      await Promise.all(stores.map((s) => s.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** A record exactly as the daemon wrote it before the JobStore port (schema 1: `version: 1`, a `j-` id). */
const SCHEMA_1 = {
  id: 'j-20261123-5f3a9c', version: 1, kind: 'upload', state: 'active', phase: 'uploading',
  source: '/images/web01.vmdk', destination: 's3://migration/web01.vmdk', format: 'vmdk', options: { partSize: 16777216 },
  createdAt: '2026-11-23T08:00:00.000Z', startedAt: '2026-11-23T08:00:01.000Z', finishedAt: null,
  progress: { ...emptyProgress(), bytesRead: 1024, totalBytes: 4096 }, result: null, error: null, attempts: 1,
  import: null, cloudTask: null, uploaded: null,
};

test('a job record of schema 1 (today\'s j-YYYYMMDD-xxxxxx id) loads, is recovered and claimed, and is written back as schema 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-jobstore-'));
  try {
    await writeFile(join(dir, `${SCHEMA_1.id}.json`), JSON.stringify(SCHEMA_1));
    await writeFile(join(dir, 'not-a-job.json'), JSON.stringify({ id: 'x', version: 7 }));
    const store = await FileJobStore.open(dir);
    const rec = await store.get(SCHEMA_1.id);
    assert.equal(rec?.schema, 2);
    assert.equal(rec?.version, 1);
    assert.equal(rec?.owner, null);
    assert.deepEqual(rec?.steps, {});
    assert.equal(rec?.destinationKey, 's3://migration@default');
    assert.deepEqual(rec?.options, SCHEMA_1.options);
    assert.equal((await store.list()).length, 1, 'a file that is no job record is left out');
    // A schema-1 record left active was written by a daemon that is gone.
    assert.deepEqual(await store.recover(), [{ id: SCHEMA_1.id, was: 'active' }]);
    const [claimed] = await store.claim('r', { global: 1, perDestination: 1 });
    assert.equal(claimed?.id, SCHEMA_1.id);
    const onDisk = JSON.parse(await readFile(join(dir, `${SCHEMA_1.id}.json`), 'utf8'));
    assert.equal(onDisk.schema, 2);
    assert.equal(onDisk.version, 3);
    assert.equal(onDisk.owner, 'r');
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('job ids are UUIDv7 (RFC 9562 §5.7): version 7, variant 10, the creation time in the first 48 bits, sortable as text', () => {
  const t = Date.UTC(2026, 11, 7, 16, 0, 0, 123);
  const ids = Array.from({ length: 1000 }, (_, i) => newJobId(t + i));
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(jobIdTime(ids[0]!), t);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(Array.from({ length: 10_000 }, () => newJobId(t))).size, 10_000, '74 random bits within one millisecond');
  assert.ok(isJobId(SCHEMA_1.id) && isJobId(ids[0]!) && !isJobId('j-2026-1') && !isJobId(ids[0]!.toUpperCase()));
});
