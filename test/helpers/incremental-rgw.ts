import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { vmxfer } from './run-command.js';
import { tempDir } from './tmp.js';
import { jsonResult } from './killable-cli.js';
import { s3Store } from './transfer-stores.js';

type S3 = Awaited<ReturnType<typeof s3Store>>;

/** A temporary directory and an RGW bucket for one file of `vmxfer upload --incremental` tests, removed after it. */
export function incrementalRgw(prefix: string, bucket: string) {
  const world = { work: undefined as unknown as { dir: string; cleanup: () => Promise<void> }, s3: undefined as unknown as S3 };
  before(async () => {
    world.work = await tempDir(prefix);
    world.s3 = await s3Store(bucket);
  });
  after(async () => {
    await world.s3?.close();
    await world.work?.cleanup();
  });
  const args = (src: string, key: string, extra: string[] = []): string[] =>
    ['upload', src, world.s3.url(key), '--incremental', '--part-size', '8MiB', '--state-dir', join(world.work.dir, 'state'), '--json', ...world.s3.cliFlags(), ...extra];
  const upload = async (src: string, key: string, extra: string[] = []) => {
    const r = await vmxfer(args(src, key, extra), { env: world.s3.cliEnv });
    assert.equal(r.code, 0, r.stderr);
    return { result: jsonResult(r), stderr: r.stderr };
  };
  return { world, args, upload };
}
