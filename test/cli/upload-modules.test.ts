import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/tmp.js';

const pexec = promisify(execFile);

/** The AWS SDK clients (CommonJS) a fresh Node process has loaded after importing `module`. */
async function sdkClientsLoadedBy(module: string): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(join(REPO_ROOT, 'dist', module))});
    const cache = createRequire(import.meta.url).cache;
    console.log(JSON.stringify(Object.keys(cache).map((k) => /@aws-sdk\\/(client-[a-z0-9-]+)\\//.exec(k)?.[1]).filter(Boolean)));`;
  const { stdout } = await pexec(process.execPath, ['--input-type=module', '-e', script]);
  return [...new Set(JSON.parse(stdout) as string[])].sort();
}

// Loading @aws-sdk/client-ec2 and client-iam costs ~0.6 CPU-s (bench/README.md, issue #19 point 5),
// which every upload paid before the ebs:// path loaded them only when an AMI import is asked for.
test('the upload command loads no cloud import SDK (EC2, IAM) until a cloud step needs it', async () => {
  const loaded = await sdkClientsLoadedBy('agent/cli/commands/upload.js');
  assert.deepEqual(loaded.filter((c) => c === 'client-ec2' || c === 'client-iam'), []);
});

test('the check above sees an SDK a module does load (the EBS snapshot image step loads EC2)', async () => {
  const loaded = await sdkClientsLoadedBy('agent/ebs/snapshot-image.js');
  assert.ok(loaded.includes('client-ec2'), `loaded: ${loaded.join(', ')}`);
});
