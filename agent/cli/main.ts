import { CORE } from '../core/error-codes.js';
import { EXIT_CODES, isVmxferError, vmxError } from '../core/errors.js';

type Run = (argv: string[], signal: AbortSignal) => Promise<number>;
/**
 * Each command's module is imported only when that command runs: the cloud SDKs, the daemon and the
 * pipeline are large, and a `vmxfer convert` that loaded them all started in ~0.9 s with ~90 MiB.
 */
type Command = { load: () => Promise<Run>; summary: string };

const COMMANDS: Record<string, Command> = {
  inspect: { load: async () => (await import('./commands/inspect.js')).inspectCommand, summary: 'show what a disk image is (format, sizes, files, warnings)' },
  convert: { load: async () => (await import('./commands/convert.js')).convertCommand, summary: 'convert a disk image to another format in one streaming pass' },
  upload: { load: async () => (await import('./commands/upload.js')).uploadCommand, summary: 'convert on the fly and upload to s3://, oss:// or file:// (parallel, resumable, verified)' },
  download: { load: async () => (await import('./commands/download.js')).downloadCommand, summary: 'download with parallel ranged GETs, optionally converting (resumable, verified)' },
  verify: { load: async () => (await import('./commands/verify.js')).verifyCommand, summary: 'read an object back and check its store checksum, digest tag and (--source) source' },
  gc: { load: async () => (await import('./commands/gc.js')).gcCommand, summary: 'list and abort stale multipart uploads under a prefix' },
  daemon: { load: async () => (await import('./commands/daemon.js')).daemonCommand, summary: 'run the agent as a service: job queue, HTTP API, /metrics, live feed' },
  jobs: { load: async () => (await import('./commands/jobs.js')).jobsCommand, summary: 'submit, list, show, cancel and watch jobs of a running daemon' },
  errors: { load: async () => (await import('./commands/errors.js')).errorsCommand, summary: 'list every error code with its exit status and meaning' },
  export: { load: async () => (await import('./commands/export.js')).exportCommand, summary: 'export an AWS or Alibaba Cloud image to a bucket and download it' },
  unpack: { load: async () => (await import('./commands/unpack.js')).unpackCommand, summary: 'extract a local OVA into a directory, verifying its manifest' },
  image: { load: async () => (await import('./commands/image.js')).imageCommand, summary: 'copy an AWS or Alibaba Cloud image to other regions, or share it with accounts' },
  preflight: { load: async () => (await import('./commands/preflight.js')).preflightCommand, summary: 'check what a cloud import would refuse, before any upload' },
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
    return await (await command.load())(rest, controller.signal);
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
