import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForJob } from '../helpers/daemon.js';
import { importWorld, startImportDaemon, type ImportWorld } from '../helpers/import-world.js';
import { ext4At, fatAt, GUEST_TOOLS_MISSING, partitionDisk, peImage, rootTree } from '../helpers/guest-disks.js';
import { debianBootFiles, KERNEL } from './guest-fixture.js';

const DEBIAN_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n';

let world: ImportWorld;
let disk: string;
let rootUuid: string;
before(async () => {
  if (GUEST_TOOLS_MISSING) return;
  world = await importWorld('guest-jobs', 4);
  disk = join(world.dir, 'guest.raw');
  rootUuid = randomUUID();
  const tree = await rootTree(join(world.dir, 'tree'), undefined, [{ path: 'etc/os-release', content: DEBIAN_RELEASE }, ...debianBootFiles(rootUuid)]);
  const at = await partitionDisk(disk, 64, 'gpt', [{ sizeMiB: 8, type: 'ef00' }, { sizeMiB: 0, type: '8300' }]);
  await fatAt(disk, at[0]!, [{ path: '/EFI/BOOT/BOOTX64.EFI', content: peImage(0x8664) }], { volumeId: '0000BEEF', bits: 12 }, world.dir);
  await ext4At(disk, at[1]!, tree, { uuid: rootUuid });
});
after(() => world?.close());

test('an API import job carries the guest facts in job.guest (real daemon, EC2 Query API protocol fake): partition table, boot mode, OS, kernel, root', async (t) => {
  if (GUEST_TOOLS_MISSING) return t.skip(GUEST_TOOLS_MISSING);
  const d = await startImportDaemon(world);
  try {
    const key = `guest/${randomBytes(3).toString('hex')}.vmdk`;
    const r = await d.api('POST', '/v1/jobs', { source: disk, destination: `s3://${world.bucket.name}/${key}`, format: 'vmdk', import: { target: 'aws-image', bootMode: 'uefi' } });
    assert.equal(r.status, 201, r.text);
    const job = await waitForJob(d, r.json.job.id, (j) => j.state !== 'queued' && j.state !== 'validating');
    const g = job.guest;
    assert.ok(g, `no job.guest in ${JSON.stringify(job)}`);
    assert.equal(g.partitionTable.scheme, 'gpt');
    assert.deepEqual(g.bootModes, ['UEFI']);
    assert.equal(g.architecture, 'x86_64');
    assert.equal(g.systems.length, 1);
    assert.equal(g.systems[0].id, 'debian');
    assert.equal(g.systems[0].versionId, '12');
    assert.ok(g.systems[0].kernels.includes(KERNEL), JSON.stringify(g.systems[0].kernels));
    assert.equal(typeof g.bytesRead, 'number');
    const done = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.deepEqual(done.guest.systems, g.systems);
  } finally {
    await d.stop();
    await rm(d.stateDir, { recursive: true, force: true });
  }
});
