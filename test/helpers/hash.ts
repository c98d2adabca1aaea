import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './tmp.js';

const pexec = promisify(execFile);

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The sha256-linear-512k digest of a file computed by the Python script docs/integrity.md prints:
 * an implementation independent of vmxfer's, and a check that the documented script is right.
 */
export async function linearDigestByDocScript(path: string): Promise<string> {
  const doc = await readFile(join(REPO_ROOT, 'docs', 'integrity.md'), 'utf8');
  const script = /```python\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!script) throw new Error('docs/integrity.md has no python block');
  const { stdout } = await pexec('python3', ['-c', script, path], { maxBuffer: 1 << 20 });
  return stdout.trim();
}
