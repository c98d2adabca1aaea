import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../../agent/config/load-config.js';
import { VmxferError } from '../../agent/core/errors.js';
import { tempDir } from '../helpers/tmp.js';

test('source_roots takes plain paths and { path, shared } entries; the environment gives plain paths', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const f = join(dir, 'c.yaml');
    await writeFile(f, 'source_roots:\n  - /images\n  - { path: /mnt/datastore, shared: true }\n  - { path: /mnt/other }\n');
    assert.deepEqual((await loadConfig(f, {})).source_roots, [
      { path: '/images', shared: false },
      { path: '/mnt/datastore', shared: true },
      { path: '/mnt/other', shared: false },
    ]);
    assert.deepEqual((await loadConfig(f, { VMXFER_SOURCE_ROOTS: '/a, /b' })).source_roots, [{ path: '/a', shared: false }, { path: '/b', shared: false }]);
  } finally {
    await cleanup();
  }
});

test('a bad source_roots entry is refused naming the key and the entry', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const f = join(dir, 'c.yaml');
    const cases: Array<[string, RegExp]> = [
      ['source_roots: []\n', /non-empty list/],
      ['source_roots:\n  - { path: /x, shared: "yes" }\n', /entry 0: "shared" must be true or false/],
      ['source_roots:\n  - /ok\n  - { shared: true }\n', /entry 1 needs a non-empty "path"/],
      ['source_roots:\n  - { path: /x, sharde: true }\n', /entry 0 has an unknown key "sharde"/],
      ['source_roots:\n  - 7\n', /entry 0 must be a path or \{ path, shared \}/],
    ];
    for (const [yaml, why] of cases) {
      await writeFile(f, yaml);
      await assert.rejects(loadConfig(f, {}), (e: VmxferError) => e.code === 'CONFIG_BAD_VALUE' && /source_roots/.test(e.message) && why.test(e.message), yaml);
    }
  } finally {
    await cleanup();
  }
});
