import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_FIXTURES, tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/run-command.js';
import { assertMatchesQemuMap, qemuIoRead, qemuMap, sourceBytes } from '../helpers/qemu-map.js';
import { openDisk } from '../../agent/formats/detect.js';
import { chsForSectors } from '../../agent/formats/vhd/geometry.js';

/** Virtual sizes from the fixtures' README (qemu's reading: CHS for Virtual PC, Current Size for Hyper-V). */
const FIXTURES = [
  { file: 'hyperv2012r2-dynamic.vhd', virtualSize: 136365211648, creator: 'win ' },
  { file: 'virtualpc-dynamic.vhd', virtualSize: 136363130880, creator: 'vpc ' },
];

for (const fx of FIXTURES) {
  const packed = join(SHARED_FIXTURES, `${fx.file}.bz2`);
  test(`${fx.file} (made by ${fx.creator.trim()}): virtual size as the README states, extents match qemu`, async (t) => {
    if (!existsSync(packed)) {
      t.skip(`shared fixture ${packed} is absent`);
      return;
    }
    const { dir, cleanup } = await tempDir();
    try {
      const image = join(dir, fx.file);
      await run('sh', ['-c', 'bzip2 -dc "$1" > "$2"', 'sh', packed, image]);
      const disk = await openDisk(image);
      try {
        assert.equal(disk.info.format, 'vhd');
        assert.equal(disk.info.subformat, 'dynamic');
        assert.equal(disk.info.details?.creatorApp, fx.creator);
        assert.equal(disk.virtualSize, fx.virtualSize);
        await assertMatchesQemuMap(disk, await qemuMap(image, 'vpc'), (off, len) => qemuIoRead(image, 'vpc', off, len));
        // Hyper-V and Virtual PC computed these footers' geometry with the spec's CHS algorithm: ours must agree.
        const currentSize = disk.info.details?.currentSize as number;
        const g = chsForSectors(currentSize / 512);
        assert.equal(`${g.cylinders}/${g.heads}/${g.sectorsPerTrack}`, disk.info.details?.geometry);
        for (const off of [0, fx.virtualSize - 4096]) {
          assert.ok((await sourceBytes(disk, off, 4096)).equals(await qemuIoRead(image, 'vpc', off, 4096)), `bytes at ${off} differ from qemu-io`);
        }
      } finally {
        await disk.close();
      }
    } finally {
      await cleanup();
    }
  });
}
