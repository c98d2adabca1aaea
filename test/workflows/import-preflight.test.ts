import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preflightImport } from '../../agent/workflows/import-preflight.js';
import { MemoryJournal } from '../../agent/workflows/memory-journal.js';

test('the import preflight refuses a copy into the import region before it reads the source (one check for upload --import and upload jobs)', async () => {
  const connections = { aws: { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' } } };
  const run = preflightImport(
    { source: '/nonexistent/disk.raw', options: { target: 'aws-image', copy: [{ region: 'eu-west-1' }] } },
    { journal: new MemoryJournal(), cloud: { connections }, reporter: { guest: () => undefined }, signal: new AbortController().signal },
  );
  await assert.rejects(run, (err: any) => {
    assert.equal(err.code, 'CLOUD_COPY_RULE');
    assert.match(err.message, /copy\[0\]\.region: is the source region eu-west-1/);
    assert.notEqual(err.file, '/nonexistent/disk.raw', 'refused before the source is opened');
    return true;
  });
});
