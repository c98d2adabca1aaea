import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readdir } from 'node:fs/promises';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

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

/** The bare package specifiers the ES module loader resolves while a fresh Node process imports `module`. */
async function packagesImportedBy(module: string): Promise<string[]> {
  const hooks = `
    export async function resolve(specifier, context, next) {
      if (!/^(node:|file:|\\.|\\/)/.test(specifier)) console.log('IMPORTED ' + specifier);
      return next(specifier, context);
    }`;
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
    await import(${JSON.stringify(join(REPO_ROOT, 'dist', module))});`;
  const { stdout } = await pexec(process.execPath, ['--input-type=module', '-e', script]);
  return [...new Set(stdout.split('\n').filter((l) => l.startsWith('IMPORTED ')).map((l) => l.slice(9)))].sort();
}

// An import of a CommonJS package runs cjs-module-lexer over it first: 0.10 CPU-s more for the S3 SDK
// alone on Node 20 (agent/core/require-cjs.ts, bench/README.md).
test('the upload path loads the S3 SDK, @node-rs/crc32 and hash-wasm with require(), never through the ES module loader', async () => {
  const imported = await packagesImportedBy('agent/cli/commands/upload.js');
  assert.ok(imported.includes('p-limit'), `the hook sees bare imports: ${imported.join(', ')}`);
  assert.deepEqual(imported.filter((p) => ['@aws-sdk/client-s3', '@node-rs/crc32', 'hash-wasm'].includes(p)), []);
});

const hasCompileCache = typeof (await import('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';

test('bin/vmxfer.js keeps compiled code on disk on Node >= 22.1 (the OS temp directory without NODE_COMPILE_CACHE)', { skip: hasCompileCache ? false : `Node ${process.version} has no module.enableCompileCache (Node >= 22.1 only): nothing to check` }, async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // NODE_COMPILE_CACHE alone would turn the cache on without bin/vmxfer.js: the temp directory is used instead.
    const { NODE_COMPILE_CACHE: _set, ...env } = process.env;
    await pexec(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), '--version'], { env: { ...env, TMPDIR: dir } });
    assert.ok((await readdir(join(dir, 'node-compile-cache'), { recursive: true })).length > 0, 'the cache directory holds compiled code');
  } finally {
    await cleanup();
  }
});
