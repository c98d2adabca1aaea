import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { apiCall, daemonAddress } from '../daemon-client.js';
import { vmxError } from '../../core/errors.js';
import { API } from '../../api/error-codes.js';

export const HEALTH_USAGE = `Usage: vmxfer health [--config FILE] [--url URL] [--json]

Asks a running daemon's GET /healthz (no token needed) at the address its configuration names:
listen.host and listen.port (VMXFER_LISTEN_* variables included), https with listen.tls_cert trusted
when TLS is on. Exit 0 when it answers {"status":"ok"}, 7 (API_DAEMON_UNREACHABLE) otherwise: the
container image's HEALTHCHECK runs it.
  --config FILE       the daemon's configuration (default as for vmxfer daemon)
  --url URL           the daemon's address instead of the configuration's
  --json              one JSON result line`;

export async function healthCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { config: { type: 'string' }, url: { type: 'string' }, json: { type: 'boolean' } }, HEALTH_USAGE);
  if (values.help) return printUsage(HEALTH_USAGE);
  requirePositionals(positionals, [], HEALTH_USAGE);
  const { url, ca } = await daemonAddress(values);
  const { status, json } = await apiCall({ url, ca, token: '' }, 'GET', '/healthz');
  if (status !== 200 || json?.status !== 'ok') throw vmxError(API.DAEMON_UNREACHABLE, `the daemon at ${url} answered /healthz with ${status} ${JSON.stringify(json)}`);
  process.stdout.write(values.json ? JSON.stringify({ type: 'result', url, status: 'ok' }) + '\n' : `${url}: ok\n`);
  return 0;
}
