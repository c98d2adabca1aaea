import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSourceMatchesRaw, qemuImg } from '../helpers/qemu.js';
import { tempDir } from '../helpers/tmp.js';
import { run, vmxfer } from '../helpers/run-command.js';
import { buildRealisticDisk, SMALL_DISK } from '../helpers/realistic-disk.js';
import { twoQemuDisks, buildTwoDiskOva } from '../helpers/ova-fixtures.js';
import { memoryDisk } from '../helpers/memory-disk.js';
import { openOva } from '../../agent/formats/ova/ova-reader.js';
import { createOvaWriter } from '../../agent/formats/ova/writer/ova-writer.js';
import { streamOptimizedWriter } from '../../agent/formats/vmdk/stream-optimized-writer.js';
import { openDisk } from '../../agent/formats/detect.js';
import { writeStreamToFile } from '../../agent/io/file-output.js';
import { dataExtent } from '../../agent/disk/extent.js';
import type { DiskSource } from '../../agent/disk/disk-source.js';

test('vmxfer convert a.raw b.vmdk out.ova --to ova: tar order, qemu-img check/compare of each extracted disk, manifest checked independently, read back', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const raw = await buildRealisticDisk(SMALL_DISK);
    const disks = await twoQemuDisks();
    const out = join(dir, 'export.ova');
    const r = await vmxfer(['convert', raw, disks.vmdks[1], out, '--to', 'ova', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(result.target, 'ova');
    assert.equal(result.sourceDigests.length, 2);
    const listing = (await run('tar', ['-tf', out])).trim().split('\n');
    assert.deepEqual(listing, ['export.ovf', 'export-disk1.vmdk', 'export-disk2.vmdk', 'export.mf']);
    await run('tar', ['-xf', out, '-C', dir]);
    for (const [i, src] of [raw, disks.vmdks[1]].entries()) {
      const member = join(dir, `export-disk${i + 1}.vmdk`);
      await qemuImg(['check', '-f', 'vmdk', member]);
      assert.equal((await qemuInfo(member))['format-specific'].data['create-type'], 'streamOptimized');
      await qemuImg(['compare', member, src]);
    }
    const mf = (await readFile(join(dir, 'export.mf'), 'utf8')).trim().split('\n');
    assert.equal(mf.length, 3);
    for (const line of mf) {
      const m = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line);
      assert.ok(m, line);
      assert.equal(createHash('sha256').update(await readFile(join(dir, m[1]!))).digest('hex'), m[2], `digest of ${m[1]}`);
    }
    const ovf = await readFile(join(dir, 'export.ovf'), 'utf8');
    assert.match(ovf, /<rasd:ResourceSubType>lsilogic<\/rasd:ResourceSubType>/);
    const opened = await openOva(out);
    assert.deepEqual(opened.envelope.disks.map((d) => d.capacityBytes), [SMALL_DISK.size, disks.sizes[1]]);
    assert.deepEqual(opened.envelope.files.map((f) => f.size), [1, 2].map((i) => statSync(join(dir, `export-disk${i}.vmdk`)).size));
    let i = 0;
    for await (const d of opened.disks()) await assertSourceMatchesRaw(d, disks.oracles[i++]!);
  } finally {
    await cleanup();
  }
});

async function qemuInfo(p: string): Promise<Record<string, any>> {
  return JSON.parse(await qemuImg(['info', '--output=json', p]));
}

test('ova writer: the held path and the two-pass path (no hold budget) both read back byte-identical to the source; timing of both', async (t) => {
  const { dir, cleanup } = await tempDir();
  try {
    const raw = await buildRealisticDisk(SMALL_DISK);
    const timings: Record<string, number> = {};
    for (const hold of [64 * 1024 * 1024, 0]) {
      const disk = await openDisk(raw, { format: 'raw' });
      const out = join(dir, `hold-${hold}.ova`);
      const started = performance.now();
      await writeStreamToFile(out, createOvaWriter({ holdBytes: hold }).write(disk, { outputName: 'vm.ova' }));
      timings[hold ? 'held' : 'twoPass'] = (performance.now() - started) / 1000;
      await disk.close();
      const back = await openDisk(out);
      await assertSourceMatchesRaw(back, raw);
      await back.close();
    }
    const plain = join(dir, 'plain.vmdk');
    const started = performance.now();
    const disk = await openDisk(raw, { format: 'raw' });
    await writeStreamToFile(plain, streamOptimizedWriter.write(disk, {}));
    await disk.close();
    timings['vmdkOnly'] = (performance.now() - started) / 1000;
    t.diagnostic(`80 MiB realistic disk: vmdk ${timings['vmdkOnly']!.toFixed(2)} s, ova held ${timings['held']!.toFixed(2)} s, ova two-pass ${timings['twoPass']!.toFixed(2)} s`);
    assert.ok(timings['twoPass']! > 0 && timings['held']! > 0);
  } finally {
    await cleanup();
  }
});

test('ova writer: a source that changes between the sizing and the write pass fails with OVA_SIZE_CHANGED', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    let pass = 0;
    const grain = 64 * 1024;
    const source: DiskSource = {
      ...memoryDisk(4 * grain, []),
      async *extents() {
        pass++;
        // Pass 1 (sizing): text that deflates well; pass 2: random bytes, stored at full size.
        for (let i = 0; i < 4; i++) yield dataExtent(i * grain, pass === 1 ? Buffer.alloc(grain, 'a') : randomBytes(grain));
      },
    };
    await assert.rejects(
      writeStreamToFile(join(dir, 'x.ova'), createOvaWriter({ holdBytes: 0 }).write(source, { outputName: 'x.ova' })),
      (e: Error & { code?: string }) => e.code === 'OVA_SIZE_CHANGED',
    );
    assert.equal(pass, 2);
  } finally {
    await cleanup();
  }
});

test('vmxfer inspect x.ova: each disk, the hardware summary and the manifest verdict; --disk 2 and --json', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const disks = await twoQemuDisks();
    const ova = await buildTwoDiskOva(dir, disks, { format: 'gnu', manifest: 'last', style: 'sha1-nospace' });
    const r = await vmxfer(['inspect', ova]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^format: ova \(vmdk streamOptimized\)$/m);
    assert.match(r.stdout, /^disk: 1 of 2 \("vmdisk1"\)$/m);
    assert.match(r.stdout, /cpus: 2/);
    assert.match(r.stdout, /memoryBytes: 4294967296/);
    assert.match(r.stdout, /firmware: efi/);
    assert.match(r.stdout, /scsi \(pvscsi\)/);
    assert.match(r.stdout, /E1000 on VM Network/);
    assert.match(r.stdout, /"diskId":"vmdisk2","capacityBytes":25167360/);
    assert.match(r.stdout, /manifest: \{"status":"verified","manifest":"vm\.mf","algorithms":\["sha1"\]/);
    const j = await vmxfer(['inspect', ova, '--disk', '2', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const info = JSON.parse(j.stdout);
    assert.equal(info.virtualSize, disks.sizes[1]);
    assert.equal(info.details.manifest.status, 'verified');
    const bad = await vmxfer(['inspect', ova, '--disk', '3']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /OVA_DISK_INDEX/);
    const many = await vmxfer(['convert', ova, disks.vmdks[1], join(dir, 'x.raw'), '--to', 'raw']);
    assert.equal(many.code, 2);
    assert.match(many.stderr, /several sources need a target that holds several disks/);
  } finally {
    await cleanup();
  }
});
