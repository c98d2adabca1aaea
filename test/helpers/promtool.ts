import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const pexec = promisify(execFile);

/** `promtool check metrics` on an exposition (Debian's prometheus package, installed by scripts/install-test-deps.sh). */
export async function promtool(text: string): Promise<{ code: number; output: string }> {
  const child = pexec('promtool', ['check', 'metrics']);
  child.child.stdin!.end(text);
  try {
    const r = await child;
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}
