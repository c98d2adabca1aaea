import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vmxError } from '../core/errors.js';
import { API } from '../api/error-codes.js';
import { readTokenFile } from '../api/auth.js';
import { loadDaemonConfig } from '../daemon/daemon-config.js';
import { findConfigFile } from '../config/default-paths.js';

/** Where the daemon listens and how to prove who we are, from the daemon's own configuration. */
export interface DaemonTarget {
  url: string;
  token: string;
  /** The daemon's certificate, trusted when it is self-signed (listen.tls_cert). */
  ca: Buffer | undefined;
}

export const CLIENT_FLAGS = {
  config: { type: 'string' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const CLIENT_FLAGS_HELP = `  --config FILE       the daemon's configuration (default as for vmxfer daemon): address, TLS and token
  --url URL           the daemon's address (default from listen.* in the configuration)
  --token-file FILE   the bearer token (default $VMXFER_TOKEN, auth.token_file, or <state_dir>/token)
  --json              machine-readable output`;

export async function daemonTarget(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<DaemonTarget> {
  const { url, ca, config } = await daemonAddress(values, env);
  let token: string;
  if (values['token-file']) token = await readTokenFile(values['token-file'] as string);
  else if (env.VMXFER_TOKEN) token = env.VMXFER_TOKEN.trim();
  else token = await readTokenFile(config.auth.token_file || join(config.state_dir, 'token'));
  return { url, token, ca };
}

/** The daemon's URL (listen.host, listen.port, https when listen.tls_cert is set) and the certificate to trust. */
export async function daemonAddress(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env) {
  const config = await loadDaemonConfig({ file: findConfigFile(values.config as string | undefined, env), env, overrides: {} });
  const tls = Boolean(config.listen.tls_cert);
  const host = ['0.0.0.0', '::', ''].includes(config.listen.host) ? '127.0.0.1' : config.listen.host;
  const url = (values.url as string | undefined) ?? `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${config.listen.port}`;
  const ca = tls ? await readFile(config.listen.tls_cert).catch(() => undefined) : undefined;
  return { url: url.replace(/\/+$/, ''), ca, config };
}

/** One API call; the body of any answer is parsed as JSON. */
export function apiCall(t: DaemonTarget, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, t.url + '/');
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method,
        ca: t.ca,
        headers: { authorization: `Bearer ${t.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch {
            reject(unreachable(t.url, `answered ${res.statusCode} with a body that is not JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(unreachable(t.url, 'did not answer within 30 s')));
    req.on('error', (err) => reject(isUnreachable(err) ? err : unreachable(t.url, (err as NodeJS.ErrnoException).code ?? err.message)));
    req.end(payload);
  });
}

function unreachable(url: string, why: string) {
  return vmxError(API.DAEMON_UNREACHABLE, `the daemon at ${url} ${why}`);
}

function isUnreachable(err: unknown): boolean {
  return (err as { code?: string })?.code === API.DAEMON_UNREACHABLE.code;
}
