import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { MiB } from '../../agent/core/units.js';
import { WRITERS } from '../../agent/formats/registry.js';
import { downloadObject } from '../../agent/transfer/download.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../agent/transfer/download-checkpoint.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import { uploadImage } from '../../agent/transfer/upload.js';
import { sha256File } from '../helpers/hash.js';
import { qemuImg } from '../helpers/qemu.js';
import { buildRealisticDisk, type RealisticDiskSpec } from '../helpers/realistic-disk.js';
import { tempDir } from '../helpers/tmp.js';
import { fileStore, ossStore, s3Store, type TestStore } from '../helpers/transfer-stores.js';

/**
 * (a) Upload → download round trips, for each store (file://, S3 on a real Ceph RGW, OSS on the
 * OSS protocol fake) and each format: the downloaded object equals the stored one read back
 * without vmxfer (SDK GetObject / the fake's memory / the file), the stored image holds the
 * source's content per qemu-img, and `download --to raw` gives back the source's exact bytes
 * (converted from the stream of GETs for raw and stream-optimized VMDK, from a local copy else).
 */
const DISK: RealisticDiskSpec = {
  name: 'transfer-rt',
  size: 20 * MiB + 9 * 512,
  fsMiB: 12,
  fillFrom: ['/usr/share/zoneinfo'],
  randomMiB: 2,
  textMiB: 1,
};

const QEMU_FORMAT: Record<string, string> = { original: 'raw', raw: 'raw', qcow2: 'qcow2', vhd: 'vpc', vmdk: 'vmdk' };
const FORMATS = ['original', ...WRITERS.map((w) => w.target)].filter((f) => f in QEMU_FORMAT);

let work: { dir: string; cleanup: () => Promise<void> };
let source: string;
let sourceSha: string;
const stores: TestStore[] = [];

before(async () => {
  work = await tempDir('vmxfer-rt-');
  source = await buildRealisticDisk(DISK);
  sourceSha = await sha256File(source);
  stores.push(await fileStore(work.dir), await s3Store('roundtrip'), await ossStore('vmxfer-roundtrip'));
});
after(async () => {
  for (const s of stores) await s.close();
  await work?.cleanup();
});

for (const kind of ['file', 's3', 'oss'] as const) {
  describe(`round trips through ${kind}`, () => {
    for (const as of FORMATS) {
      test(`--as ${as}: object read back independently = download; content = source; download --to raw = source bytes`, async () => {
        const store = stores.find((s) => s.kind === kind)!;
        const sink = store.sink();
        const key = `rt/disk.${as}`;
        const url = store.url(key);
        const up = await uploadImage({
          source, destination: url, key, sink, as, partSize: 5 * MiB, concurrency: 3, resume: false,
          checkpoints: new FileCheckpointStore<UploadCheckpoint>(join(work.dir, `cp-${kind}`), isUploadCheckpoint),
        });
        assert.equal(up.partsSkipped, 0);
        assert.equal(up.verified, kind === 'oss' ? 'crc64' : 'etag');
        const downloads = new FileCheckpointStore<DownloadCheckpoint>(join(work.dir, `dl-${kind}`), isDownloadCheckpoint);
        const dst = join(work.dir, `${kind}-${as}.img`);
        const down = await downloadObject({ url, key, sink, destination: dst, concurrency: 3, resume: false, checkpoints: downloads });
        assert.equal(down.verified, kind === 'oss' ? 'crc64' : 'etag', 'the whole object was verified against the store');
        assert.equal(await sha256File(dst), await store.objectSha256(key), 'download = the stored object');
        assert.equal(down.objectSize, up.objectSize);
        if (as === 'original' || as === 'raw') assert.equal(await sha256File(dst), sourceSha);
        await qemuImg(['compare', '-q', '-f', QEMU_FORMAT[as]!, '-F', 'raw', dst, source]);
        const back = join(work.dir, `${kind}-${as}.back.raw`);
        const conv = await downloadObject({ url, key, sink, destination: back, to: 'raw', concurrency: 3, resume: false, checkpoints: downloads });
        const streamable = as === 'original' || as === 'raw' || as === 'vmdk';
        assert.equal(conv.conversion?.mode, streamable ? 'stream' : 'local');
        assert.equal(await sha256File(back), sourceSha, 'download --to raw gives back the source bytes');
        assert.deepEqual(await downloads.list(), [], 'no download checkpoint is left');
        await sink.deleteObject(key);
      });
    }
  });
}
