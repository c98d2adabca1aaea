import { inspectCommand, INSPECT_USAGE } from './commands/inspect.js';
import { convertCommand, CONVERT_USAGE } from './commands/convert.js';
import { errorsCommand, ERRORS_USAGE } from './commands/errors.js';
import { uploadCommand, UPLOAD_USAGE } from './commands/upload.js';
import { downloadCommand, DOWNLOAD_USAGE } from './commands/download.js';
import { gcCommand, GC_USAGE } from './commands/gc.js';
import { exportCommand, EXPORT_USAGE } from './commands/export.js';
import { preflightCommand, PREFLIGHT_USAGE } from './commands/preflight.js';
import { daemonCommand, DAEMON_USAGE } from './commands/daemon.js';
import { jobsCommand, JOBS_USAGE } from './commands/jobs.js';
import { CORE } from '../core/error-codes.js';
import { EXIT_CODES, isVmxferError, vmxError } from '../core/errors.js';

type Command = { run: (argv: string[], signal: AbortSignal) => Promise<number>; usage: string; summary: string };

const COMMANDS: Record<string, Command> = {
  inspect: { run: inspectCommand, usage: INSPECT_USAGE, summary: 'show what a disk image is (format, sizes, files, warnings)' },
  convert: { run: convertCommand, usage: CONVERT_USAGE, summary: 'convert a disk image to another format in one streaming pass' },
  upload: { run: uploadCommand, usage: UPLOAD_USAGE, summary: 'convert on the fly and upload to s3://, oss:// or file:// (parallel, resumable, verified)' },
  download: { run: downloadCommand, usage: DOWNLOAD_USAGE, summary: 'download with parallel ranged GETs, optionally converting (resumable, verified)' },
  gc: { run: gcCommand, usage: GC_USAGE, summary: 'list and abort stale multipart uploads under a prefix' },
  daemon: { run: daemonCommand, usage: DAEMON_USAGE, summary: 'run the agent as a service: job queue, HTTP API, /metrics, live feed' },
  jobs: { run: jobsCommand, usage: JOBS_USAGE, summary: 'submit, list, show, cancel and watch jobs of a running daemon' },
  errors: { run: errorsCommand, usage: ERRORS_USAGE, summary: 'list every error code with its exit status and meaning' },
  export: { run: exportCommand, usage: EXPORT_USAGE, summary: 'export an AWS or Alibaba Cloud image to a bucket and download it' },
  preflight: { run: preflightCommand, usage: PREFLIGHT_USAGE, summary: 'check what a cloud import would refuse, before any upload' },
};

export const MAIN_USAGE = `vmxfer: move virtual-machine disk images between hypervisors and object stores

Usage: vmxfer COMMAND [options]   (vmxfer COMMAND --help for details)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Exit codes: 0 success, ${EXIT_CODES.usage} usage error, ${EXIT_CODES['invalid-input']} invalid input image, ${EXIT_CODES.unsupported} unsupported input,
  ${EXIT_CODES.io} I/O failure, ${EXIT_CODES.integrity} integrity check failed, ${EXIT_CODES.remote} remote store/cloud error,
  ${EXIT_CODES.internal} internal error, ${EXIT_CODES.aborted} cancelled.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(MAIN_USAGE + '\n');
    return name ? 0 : EXIT_CODES.usage;
  }
  if (name === '--version') {
    process.stdout.write('vmxfer 0.1.0\n');
    return 0;
  }
  const command = COMMANDS[name];
  const controller = new AbortController();
  const onSignal = (sig: string) => controller.abort(vmxError(CORE.ABORTED, `interrupted by ${sig}`));
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    if (!command) throw vmxError(CORE.USAGE, `unknown command "${name}"\n\n${MAIN_USAGE}`);
    return await command.run(rest, controller.signal);
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (isVmxferError(err)) {
    process.stderr.write(`vmxfer: ${err.name}: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`vmxfer: internal error [${CORE.INTERNAL.code}]: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT_CODES.internal;
}
