import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { ProgressTracker, type ProgressSnapshot } from '../../agent/core/progress.js';
import { downloadDisks, exportDisks, type ExportDisk, type FinishedDisk } from '../../agent/cloud/tasks/export-disks.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Three disks in `dir` and a download that writes each disk's key as its file's bytes, logging the keys it fetched. */
function world(dir: string) {
  const disks = exportDisks('ecs', { taskId: 't-1', bucket: 'b', key: 'sys', dataKeys: ['d1', 'd2'] }, join(dir, 'web01.qcow2'));
  const fetched: string[] = [];
  const download = async (disk: ExportDisk) => {
    fetched.push(disk.key);
    await writeFile(disk.destination, disk.key.repeat(100));
    return { objectSize: disk.key.length * 100 };
  };
  return { disks, fetched, download, sink: objectsOf(disks), progress: new ProgressTracker() };
}

/** The HEAD of a store holding each disk's object with the size `world`'s download writes. */
function objectsOf(disks: readonly ExportDisk[]) {
  return { head: async (key: string) => (disks.some((d) => d.key === key) ? { key, size: key.length * 100, etag: `"${key}"` } : undefined) };
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
    const { disks, fetched, download, sink, progress } = world(dir);
    const [sys, d1, d2] = disks as [ExportDisk, ExportDisk, ExportDisk];
    await writeFile(sys.destination, 'sys'.repeat(100));
    await writeFile(d1.destination, 'd1'.repeat(50));
    const recorded = (d: ExportDisk, size: number): FinishedDisk<{ objectSize: number }> => ({ key: d.key, destination: d.destination, fileSize: size, sha256: 'recorded', result: { objectSize: size } });
    const order: string[] = [];
    const out = await downloadDisks({
      disks,
      sink,
      progress,
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
    const { disks, download, sink, progress } = world(dir);
    const known = await downloadDisks({ disks: disks.slice(0, 1), sink, progress, download, knownSha256: () => 'from-the-conversion' });
    assert.equal(known[0]!.sha256, 'from-the-conversion');
    const controller = new AbortController();
    const stopped = downloadDisks({
      disks: disks.slice(1, 2),
      sink,
      progress,
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

/** A download that reports in another unit than the object's bytes (a conversion's virtual size, twice the object), in 4 steps, the last one past its total. */
function reportingDownload(base: (disk: ExportDisk) => Promise<{ objectSize: number }>) {
  return async (disk: ExportDisk, progress: ProgressTracker) => {
    progress.phase('opening');
    progress.totalBytes = disk.key.length * 200;
    progress.phase('downloading');
    for (let i = 0; i < 3; i++) progress.advance(disk.key.length * 50);
    progress.advance(disk.key.length * 100);
    return base(disk);
  };
}

test('export disks: one progress over all of them: totalBytes the sum of the objects (HEAD) from the first report on, bytesRead only growing, never past it and ending on it, a disk kept from an earlier run counted as done, the disk in progress as progress.disk', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { disks, download, sink, progress } = world(dir);
    const [, d1] = disks as [ExportDisk, ExportDisk, ExportDisk];
    await writeFile(d1.destination, 'd1'.repeat(100));
    const seen: ProgressSnapshot[] = [];
    progress.on('progress', (s) => seen.push(s));
    await downloadDisks({
      disks,
      sink,
      progress,
      finished: [{ key: d1.key, destination: d1.destination, fileSize: 200, sha256: 'recorded', result: { objectSize: 200 } }],
      download: reportingDownload(download),
    });
    assert.ok(seen.length > 8, `${seen.length} reports`);
    assert.deepEqual([...new Set(seen.map((s) => s.totalBytes))], [700], 'the sum of the three objects, in every report');
    for (const [i, s] of seen.entries()) assert.ok(s.bytesRead >= (seen[i - 1]?.bytesRead ?? 0) && s.bytesRead <= 700, `report ${i}: ${s.bytesRead}`);
    assert.equal(seen.at(-1)!.bytesRead, 700);
    assert.deepEqual(seen.filter((s) => s.disk?.index === 2).map((s) => s.bytesRead), [500], 'data disk 1, kept, counts whole at once');
    assert.deepEqual([...new Set(seen.map((s) => JSON.stringify(s.disk)))], [1, 2, 3].map((index) => JSON.stringify({ index, count: 3 })));
    assert.ok(seen.some((s) => s.disk?.index === 3 && s.bytesRead > 500 && s.bytesRead < 700), 'data disk 2 moves the total part way');
  } finally {
    await cleanup();
  }
});

test('export disks: a single disk\'s progress is its object: totalBytes its size, no progress.disk', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { disks, download, sink, progress } = world(dir);
    const seen: ProgressSnapshot[] = [];
    progress.on('progress', (s) => seen.push(s));
    await downloadDisks({ disks: disks.slice(0, 1), sink, progress, download: reportingDownload(download) });
    assert.deepEqual([...new Set(seen.map((s) => s.totalBytes))], [300]);
    assert.equal(seen.at(-1)!.bytesRead, 300);
    assert.ok(seen.every((s) => s.disk === undefined));
  } finally {
    await cleanup();
  }
});

test('export disks: an object missing when the disks are HEADed fails with STORE_NO_SUCH_KEY before any disk is fetched', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { disks, download, fetched, progress } = world(dir);
    const sink = objectsOf(disks.slice(0, 2));
    await assert.rejects(downloadDisks({ disks, sink, progress, download }), (err: any) => err.code === 'STORE_NO_SUCH_KEY' && err.file === 'oss://b/d2');
    assert.deepEqual(fetched, []);
  } finally {
    await cleanup();
  }
});
