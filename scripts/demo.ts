/**
 * The main job on the embedded default, no cloud account needed (`npm run demo`): builds a demo disk
 * with a real ext4 filesystem, starts `vmxfer daemon` with its state and a file:// object store in a
 * temporary directory, submits a conversion + multipart upload job to VMDK through the API, shows
 * its progress live with `vmxfer jobs watch`, then checks the object with qemu-img. The dashboard's URL and
 * token come first; the daemon then stays up LINGER_SECONDS so the finished job can be looked at, or with
 * `--keep` until Ctrl-C.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { buildRealisticDisk } from '../test/helpers/realistic-disk.js';
import { freePort } from '../test/helpers/daemon.js';
import { fixtureCacheDir } from '../test/helpers/tmp.js';
import { writerByTarget } from '../agent/formats/registry.js';

const pexec = promisify(execFile);
const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'vmxfer.js');
const MiB = 1024 * 1024;
/** How long the daemon and dashboard stay up after the job without --keep (DEMO_LINGER_SECONDS overrides). */
const LINGER_SECONDS = Number(process.env.DEMO_LINGER_SECONDS ?? 30);
const USAGE = `Usage: npm run demo [-- --keep]
  --keep   leave the daemon and its dashboard up after the job, until Ctrl-C`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const work = await mkdtemp(join(tmpdir(), 'vmxfer-demo-'));
  const store = join(work, 'store');
  await mkdir(store);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    VMXFER_TOKEN: randomBytes(24).toString('hex'),
    // The demo disk is built into (and cached in) the fixture cache, after the daemon is up.
    VMXFER_SOURCE_ROOTS: await fixtureCacheDir(),
    // The file:// store: jobs write only below output_roots.
    VMXFER_OUTPUT_ROOTS: store,
    // Slowed to a pace a person can follow; remove it and the job runs at full speed.
    VMXFER_TRANSFER_BWLIMIT: process.env.VMXFER_TRANSFER_BWLIMIT ?? '24MiB',
  };
  const log = join(work, 'daemon.log');
  say(`starting vmxfer daemon on ${url} (state ${join(work, 'state')}, JSON logs in ${log})`);
  // A throwaway token for this demo only: printed so the dashboard at the URL can be opened meanwhile.
  say(`dashboard: open ${url}/ and paste the token ${env.VMXFER_TOKEN}`);
  const daemon = await startDaemon(['daemon', '--listen', `127.0.0.1:${port}`, '--state-dir', join(work, 'state')], env, log);
  try {
    await waitReady(url, daemon);
    say(`dashboard ready at ${url}/ (token above); building the demo disk (GPT, ext4 filled from /usr/share, random and text regions; cached)`);
    const disk = await buildRealisticDisk({ name: 'demo', size: 384 * MiB + 512, fsMiB: 96, fillFrom: ['/usr/share/perl', '/usr/share/zoneinfo'], randomMiB: 16, textMiB: 16 });
    const target = writerByTarget('vmdk') ? 'vmdk' : 'qcow2';
    if (target !== 'vmdk') say('this build has no VMDK writer yet: the demo converts to qcow2 instead');
    const object = join(store, `demo.${target}`);
    say(`submitting: ${disk} -> file://${object} as ${target}; watching it live`);
    const code = await cli(['jobs', 'submit', disk, `file://${object}`, '--as', target, '--part-size', '16MiB', '--watch', '--url', url], env);
    if (code !== 0) throw new Error(`the job did not complete (exit ${code}); see ${log}`);
    say('checking the uploaded object with qemu-img');
    process.stdout.write((await pexec('qemu-img', ['check', '-f', target, object])).stdout);
    process.stdout.write((await pexec('qemu-img', ['compare', '-f', 'raw', '-F', target, disk, object])).stdout);
    await cli(['jobs', 'list', '--url', url], env);
    say(`done: the object is ${object}`);
    if (values.keep) say(`the daemon and the dashboard at ${url}/ stay up until Ctrl-C`);
    else say(`the dashboard at ${url}/ stays up ${LINGER_SECONDS} s more to look at the job (npm run demo -- --keep: until Ctrl-C)`);
    // Ctrl-C reaches the daemon too (same process group) and stops it; SIGINT to this process alone stops it here.
    const interrupted = new Promise<void>((r) => process.once('SIGINT', () => r()));
    const exited = new Promise<void>((r) => (daemon.exitCode !== null ? r() : daemon.once('exit', () => r())));
    await Promise.race([interrupted, exited, ...(values.keep ? [] : [new Promise((r) => setTimeout(r, LINGER_SECONDS * 1000))])]);
    say('stopping the daemon');
    return 0;
  } finally {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
  }
}

function say(text: string): void {
  process.stdout.write(`\x1b[1m==> ${text}\x1b[0m\n`);
}

async function startDaemon(args: string[], env: NodeJS.ProcessEnv, logFile: string): Promise<ChildProcess> {
  const fh = await open(logFile, 'w');
  try {
    // The child keeps its own copy of the descriptor; ours is closed once the child has it.
    return spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', fh.fd, fh.fd] });
  } finally {
    await fh.close();
  }
}

async function waitReady(url: string, daemon: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (daemon.exitCode !== null) throw new Error(`the daemon exited with ${daemon.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the daemon did not become ready in 30 s');
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
