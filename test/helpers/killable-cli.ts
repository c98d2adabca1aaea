import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './tmp.js';
import type { CliResult } from './run-command.js';

export interface KillOutcome {
  /** Part numbers the checkpoint held when the process was killed (confirmed by the store). */
  confirmed: number[];
  /** The process had already finished before reaching the kill point. */
  finished: boolean;
}

/**
 * Runs the real CLI and kill -9s it once its checkpoint file lists at least `afterParts` confirmed
 * parts (polled every 10 ms; the file is replaced atomically, so every read is a whole checkpoint).
 */
export async function runAndKill(args: string[], env: NodeJS.ProcessEnv, checkpointFile: string, afterParts: number): Promise<KillOutcome> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  for (;;) {
    if (exitCode !== undefined) {
      if (exitCode !== 0) throw new Error(`vmxfer ${args.join(' ')} exited ${exitCode} before the kill point: ${stderr}`);
      return { confirmed: [], finished: true };
    }
    const parts = await confirmedParts(checkpointFile);
    if (parts.length >= afterParts) {
      child.kill('SIGKILL');
      await exited;
      return { confirmed: await confirmedParts(checkpointFile), finished: false };
    }
    await sleep(10);
  }
}

export async function confirmedParts(checkpointFile: string): Promise<number[]> {
  try {
    const cp = JSON.parse(await readFile(checkpointFile, 'utf8')) as { parts: Array<{ partNumber: number }> };
    return cp.parts.map((p) => p.partNumber);
  } catch {
    return [];
  }
}

/** The final JSON result line of a --json run. */
export function jsonResult(r: CliResult): Record<string, any> {
  const line = r.stdout.trim().split('\n').reverse().find((l) => l.includes('"type":"result"'));
  if (!line) throw new Error(`no JSON result (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(line);
}

/**
 * Runs the real CLI, sends it SIGINT once its stderr matches `when` (a cloud task state line, say) and
 * resolves with its exit code and stderr; a process that exits before that is reported as it ended.
 */
export async function interruptWhen(args: string[], env: NodeJS.ProcessEnv, when: RegExp): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (when.test(stderr)) resolve();
    });
    void exited.then(() => resolve());
  });
  child.kill('SIGINT');
  const code = await exited;
  return { code, stderr };
}

/** Runs the real CLI and sends it SIGINT once `ready` (polled every 10 ms) says so; resolves as interruptWhen does. */
export async function interruptWhenReady(args: string[], env: NodeJS.ProcessEnv, ready: () => Promise<boolean>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exitCode = code))));
  while (exitCode === undefined && !(await ready())) await sleep(10);
  child.kill('SIGINT');
  return { code: await exited, stderr };
}
