import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../../agent/core/units.js';
import { EXIT_CODES } from '../../agent/core/errors.js';
import { changedParts, checkChangedExtentList, readChangedExtentList } from '../../agent/incremental/changed-blocks/extent-list.js';
import { fromQemuMap, fromVmwareChangeInfo } from '../../agent/incremental/changed-blocks/converters.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';

test('a change list is sorted and merged on read, and the parts it touches are exactly those its extents overlap', () => {
  const list = checkChangedExtentList({ version: 1, virtualSize: 64 * MiB, extents: [{ offset: 20 * MiB, length: MiB }, { offset: 0, length: 4096 }, { offset: 4096, length: 4096 }, { offset: 8 * MiB - 1, length: 2 }] }, 'l.json');
  assert.deepEqual(list.extents, [{ offset: 0, length: 8192 }, { offset: 8 * MiB - 1, length: 2 }, { offset: 20 * MiB, length: MiB }]);
  assert.deepEqual([...changedParts(list, 8 * MiB)].sort((a, b) => a - b), [1, 2, 3]);
});

test('a bad change list is a typed error naming the file and the entry', () => {
  const bad = (x: unknown, re: RegExp) => assert.throws(() => checkChangedExtentList(x, 'list.json'), (e: Error & { code?: string; file?: string }) => e.code === 'INCR_CHANGED_BLOCKS' && re.test(e.message) && /list\.json/.test(`${e.message} ${JSON.stringify(e)}`));
  bad({ version: 2, virtualSize: 1, extents: [] }, /version/);
  bad({ version: 1, virtualSize: -1, extents: [] }, /virtualSize/);
  bad({ version: 1, virtualSize: 100, extents: [{ offset: 0, length: 10 }, { offset: 95, length: 10 }] }, /extents\[1\].*past virtualSize 100/);
  bad({ version: 1, virtualSize: 100, extents: [{ offset: 1.5, length: 10 }] }, /extents\[0\]\.offset/);
  bad({ version: 1, virtualSize: 100, extents: [{ offset: 0, length: 0 }] }, /extents\[0\]\.length/);
  bad({ version: 1, virtualSize: 100, extents: 'all' }, /extents/);
});

test('from VMware QueryChangedDiskAreas (DiskChangeInfo): changedArea becomes the extents, the queried range the size', () => {
  const info = { startOffset: 0, length: 16 * MiB, changedArea: [{ start: 8 * MiB, length: 65536 }, { start: 0, length: 4096 }] };
  assert.deepEqual(fromVmwareChangeInfo(info, 'v.json'), { version: 1, virtualSize: 16 * MiB, extents: [{ offset: 0, length: 4096 }, { offset: 8 * MiB, length: 65536 }] });
  assert.equal(fromVmwareChangeInfo(info, 'v.json', 32 * MiB).virtualSize, 32 * MiB);
  assert.throws(() => fromVmwareChangeInfo({ ...info, changedArea: [{ start: 16 * MiB, length: 1 }] }, 'v.json'), /changedArea|extents\[0\]/);
  assert.throws(() => fromVmwareChangeInfo({ changed: [] }, 'v.json'), { code: 'INCR_CHANGED_BLOCKS' });
});

test('from qemu-img map of a real overlay (qemu-img as oracle): exactly the ranges qemu-io wrote into the top layer', async () => {
  const dir = await tempDir('vmxfer-cbt-map-');
  try {
    const base = join(dir.dir, 'base.qcow2');
    const top = join(dir.dir, 'top.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    await run('qemu-io', ['-c', 'write -P 0x11 0 8M', base]);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top]);
    await run('qemu-io', ['-c', 'write -P 0x5a 1M 128k', '-c', 'write -P 0x5a 12M 64k', top]);
    const map = JSON.parse(await run('qemu-img', ['map', '--output=json', top]));
    const list = fromQemuMap(map, 'map.json');
    assert.deepEqual(list, { version: 1, virtualSize: 16 * MiB, extents: [{ offset: MiB, length: 128 * 1024 }, { offset: 12 * MiB, length: 64 * 1024 }] });
    assert.throws(() => fromQemuMap([{ start: 0, length: 10, depth: 0, data: true }, { start: 20, length: 1 }], 'map.json'), /\[1\]\.start: must be 10/);
    // The CLI prints the same list, and refuses a file that is not JSON with the typed error.
    const mapFile = join(dir.dir, 'map.json');
    await writeFile(mapFile, JSON.stringify(map));
    const r = await vmxfer(['changed-blocks', 'from-qemu-map', mapFile]);
    assert.equal(r.code, 0, r.stderr);
    const listFile = join(dir.dir, 'list.json');
    await writeFile(listFile, r.stdout);
    assert.deepEqual(await readChangedExtentList(listFile), list);
    await writeFile(mapFile, '{');
    const broken = await vmxfer(['changed-blocks', 'from-qemu-map', mapFile]);
    assert.equal(broken.code, EXIT_CODES['invalid-input']);
    assert.match(broken.stderr, /INCR_CHANGED_BLOCKS/);
  } finally {
    await dir.cleanup();
  }
});
