import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { REPO_ROOT } from './tmp.js';

export interface StartOptions {
  stateDir?: string;
  sourceRoots?: string[];
  /** Where jobs may write; the source roots when absent (most tests read and write one temporary directory). */
  outputRoots?: string[];
  env?: Record<string, string>;
  /** Merged over the helper's own keys (state_dir, source_roots, listen, logging) in the YAML it writes. */
  config?: Record<string, unknown>;
}

export interface TestDaemon {
  url: string;
  token: string;
  stateDir: string;
  pid: number;
  /** The YAML file the daemon was started with (rewrite it and send SIGHUP to test a reload). */
  configFile: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
  stop(): Promise<number>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Everything the daemon wrote to stdout and stderr so far, across restarts. */
  output(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `node bin/vmxfer.js daemon` on a free loopback port with a fresh token and waits for /readyz. */
export async function startDaemon(opts: StartOptions = {}): Promise<TestDaemon> {
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'vmxfer-daemon-')));
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const configFile = join(stateDir, 'test-config.yaml');
  const config = {
    state_dir: stateDir,
    source_roots: opts.sourceRoots ?? [stateDir],
    // Tests write beside their sources and into the state dir; output_roots tests pass their own.
    output_roots: opts.outputRoots ?? [...(opts.sourceRoots ?? []), stateDir],
    logging: { level: 'info' },
    ...opts.config,
    // The helper owns the address; TLS files and other listen keys come from opts.config.
    listen: { ...(opts.config?.listen as Record<string, unknown> | undefined), host: '127.0.0.1', port },
  };
  // JSON is YAML: no second serializer needed.
  await writeFile(configFile, JSON.stringify(config, null, 1));
  const tls = Boolean((opts.config?.listen as { tls_cert?: string } | undefined)?.tls_cert);
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  let out = '';
  let child: ChildProcess;
  let exited: Promise<number>;
  let expectingExit = false;
  const launch = async () => {
    child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmxfer.js'), 'daemon', '--config', configFile], {
      env: { ...process.env, ...opts.env, VMXFER_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    expectingExit = false;
    exited = new Promise((resolve) =>
      child.once('exit', (code, sig) => {
        // A daemon that dies on its own fails later requests with ECONNRESET/ECONNREFUSED: say why here.
        if (!expectingExit) process.stderr.write(`# daemon ${url} exited unexpectedly (${code ?? sig}); its last output:\n${out.slice(-6000)}\n`);
        resolve(code ?? (sig ? 128 : -1));
      }),
    );
    await waitReady(url, tls, () => out, exited);
  };
  await launch();
  const d: TestDaemon = {
    url,
    token,
    stateDir,
    configFile,
    get pid() {
      return child.pid!;
    },
    api: (method, path, body) => apiRequest(url, token, method, path, body),
    stop: async () => {
      expectingExit = true;
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      expectingExit = true;
      child.kill('SIGKILL');
      await exited;
    },
    restart: async () => {
      // Same state dir and port: a running daemon is stopped first (SIGTERM), a killed one is not waited on twice.
      if (child.exitCode === null && child.signalCode === null) {
        expectingExit = true;
        child.kill('SIGTERM');
        await exited;
      }
      await launch();
    },
    output: () => out,
  };
  return d;
}

async function waitReady(url: string, tls: boolean, out: () => string, exited: Promise<number>): Promise<void> {
  let dead: number | undefined;
  void exited.then((c) => (dead = c));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (dead !== undefined) throw new Error(`daemon exited with ${dead} before it was ready:\n${out()}`);
    if (!tls) {
      const r = await rawGet(`${url}/readyz`).catch(() => 0);
      if (r === 200) return;
    } else if (/"msg":"ready"/.test(out())) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`daemon not ready after 30 s:\n${out()}`);
}

function rawGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * One API request with the bearer token (token: null sends none), on a connection of its own: a pooled
 * keep-alive connection can be closed by the daemon's keep-alive timeout just as the next request goes out
 * on it (ECONNRESET), which a daemon busy loading the cloud SDKs for its first cloud job makes likely.
 */
export function apiRequest(url: string, token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      `${url}${path}`,
      { method, agent: false, headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Polls a job until `until` holds (or 60 s pass). */
export async function waitForJob(d: TestDaemon, id: string, until: (job: any) => boolean, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await d.api('GET', `/v1/jobs/${id}`);
    if (json?.job && until(json.job)) return json.job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${JSON.stringify(json?.job?.state)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
