import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { downloadDisks, exportDisks, type ExportDisk, type FinishedDisk } from '../../agent/cloud/tasks/export-disks.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Three disks in `dir` and a download that writes each disk's key as its file's bytes, logging the keys it fetched. */
function world(dir: string) {
  const disks = exportDisks('ecs', { taskId: 't-1', bucket: 'b', key: 'sys', dataKeys: ['d1', 'd2'] }, join(dir, 'web01.qcow2'));
  const fetched: string[] = [];
  const download = async (disk: ExportDisk) => {
    fetched.push(disk.key);
    await writeFile(disk.destination, disk.key.repeat(100));
    return { bytes: disk.key.length * 100 };
  };
  return { disks, fetched, download };
}

test('export disks: the system disk to DST, data disk N to dataDiskPath(DST, N), each object as an oss:// URL', async () => {
  const disks = exportDisks('ecs', { taskId: 't-1', bucket: 'b', key: 'sys.qcow2', dataKeys: ['d1.qcow2', 'd2.qcow2'] }, '/x/web01.qcow2');
  assert.deepEqual(disks, [
    { key: 'sys.qcow2', url: 'oss://b/sys.qcow2', destination: '/x/web01.qcow2' },
    { key: 'd1.qcow2', url: 'oss://b/d1.qcow2', destination: '/x/web01.data1.qcow2' },
    { key: 'd2.qcow2', url: 'oss://b/d2.qcow2', destination: '/x/web01.data2.qcow2' },
  ]);
});

test('export disks after a restart: a recorded disk whose file has its size is skipped, one whose file shrank or vanished is fetched again; each is reported with its SHA-256 before the next starts', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { disks, fetched, download } = world(dir);
    const [sys, d1, d2] = disks as [ExportDisk, ExportDisk, ExportDisk];
    await writeFile(sys.destination, 'sys'.repeat(100));
    await writeFile(d1.destination, 'd1'.repeat(50));
    const recorded = (d: ExportDisk, size: number): FinishedDisk<{ bytes: number }> => ({ key: d.key, destination: d.destination, fileSize: size, sha256: 'recorded', result: { bytes: size } });
    const order: string[] = [];
    const out = await downloadDisks({
      disks,
      finished: [recorded(sys, 300), recorded(d1, 200), recorded(d2, 200)],
      download: async (disk) => {
        order.push(`start ${disk.key}`);
        return download(disk);
      },
      onFinished: (f) => void order.push(`finished ${f.key}`),
    });
    assert.deepEqual(fetched, ['d1', 'd2'], 'd1 shrank to 100 bytes and d2 was never written');
    assert.deepEqual(order, ['start d1', 'finished d1', 'start d2', 'finished d2']);
    assert.deepEqual(out.map((f) => [f.key, f.fileSize, f.sha256]), [['sys', 300, 'recorded'], ['d1', 200, sha256('d1'.repeat(100))], ['d2', 200, sha256('d2'.repeat(100))]]);
  } finally {
    await cleanup();
  }
});

test('export disks: a SHA-256 the download already knows is taken as is; a disk stopped before it is recorded loses its file (nothing would name it for a cancel)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { disks, download } = world(dir);
    const known = await downloadDisks({ disks: disks.slice(0, 1), download, knownSha256: () => 'from-the-conversion' });
    assert.equal(known[0]!.sha256, 'from-the-conversion');
    const controller = new AbortController();
    const stopped = downloadDisks({
      disks: disks.slice(1, 2),
      download: async (disk) => {
        const r = await download(disk);
        controller.abort(new Error('cancelled'));
        return r;
      },
      signal: controller.signal,
    });
    await assert.rejects(stopped);
    await assert.rejects(access(disks[1]!.destination), { code: 'ENOENT' });
  } finally {
    await cleanup();
  }
});
