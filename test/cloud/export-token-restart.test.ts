import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForJob } from '../helpers/daemon.js';
import { startExportDaemon, type ExportDaemon } from '../helpers/export-daemon.js';

let world: ExportDaemon;
before(async () => {
  world = await startExportDaemon('AKIDFAKETOKEN');
});
after(() => world?.close());

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('a daemon killed after ExportImage ran but before its reply arrived (EC2 Query API protocol fake): the restarted job sends the same ClientToken and follows the one export task', async () => {
  const { ec2, d } = world;
  ec2.world.exportBytes = randomBytes(300_000);
  ec2.holdReply.add('ExportImage');
  const exportTasks = () => [...ec2.world.tasks.values()].filter((t) => t.kind === 'export-image');
  const before = exportTasks().length;
  const dst = join(d.stateDir, 'lost-reply.vmdk');
  const r = await d.api('POST', '/v1/jobs', { kind: 'export', destination: dst, export: { cloud: 'aws', imageId: 'ami-0123456789abcdef0', format: 'vmdk', bucket: 'exp', prefix: 'p/' } });
  assert.equal(r.status, 201, r.text);
  await until('the export task on the fake', () => exportTasks().length === before + 1);
  await d.kill();
  await d.restart();
  const job = await waitForJob(d, r.json.job.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.state));
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  assert.equal(exportTasks().length, before + 1, 'no second export task');
  const real = ec2.callsOf('ExportImage').filter((c) => c.params.DryRun !== 'true').slice(-2);
  assert.equal(real.length, 2);
  assert.equal(real[0]!.params.ClientToken, real[1]!.params.ClientToken, 'the token fixed at submit, sent by both runs');
  assert.equal(job.result.export.taskId, exportTasks().at(-1)!.id);
  assert.ok((await readFile(dst)).equals(ec2.world.exportBytes));
});
