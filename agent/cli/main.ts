import { CORE } from '../core/error-codes.js';
import { EXIT_CODES, isVmxferError, vmxError, type VmxferError } from '../core/errors.js';
import { setVerbose } from '../core/verbose.js';
import { closest } from './did-you-mean.js';
import { environmentError } from './environment-error.js';

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
  sync: { load: async () => (await import('./commands/sync.js')).syncCommand, summary: 'warm migration: incremental upload passes (--every 1h), then --cutover and the import' },
  'changed-blocks': { load: async () => (await import('./commands/changed-blocks.js')).changedBlocksCommand, summary: "convert VMware QueryChangedDiskAreas or qemu-img map JSON into a --changed-blocks list" },
  download: { load: async () => (await import('./commands/download.js')).downloadCommand, summary: 'download with parallel ranged GETs, optionally converting (resumable, verified)' },
  stat: { load: async () => (await import('./commands/stat.js')).statCommand, summary: 'show a remote object: size, parts, ETag, tags, metadata and sniffed image format' },
  ls: { load: async () => (await import('./commands/ls.js')).lsCommand, summary: 'list the objects under a prefix of s3://, oss:// or file:// (size, last modified, key)' },
  rm: { load: async () => (await import('./commands/rm.js')).rmCommand, summary: 'delete a remote object (s3://, oss://, file://)' },
  verify: { load: async () => (await import('./commands/verify.js')).verifyCommand, summary: 'read an object back and check its store checksum, digest tag and (--source) source' },
  gc: { load: async () => (await import('./commands/gc.js')).gcCommand, summary: 'list and abort stale multipart uploads under a prefix' },
  daemon: { load: async () => (await import('./commands/daemon.js')).daemonCommand, summary: 'run the agent as a service: job queue, HTTP API, /metrics, live feed' },
  jobs: { load: async () => (await import('./commands/jobs.js')).jobsCommand, summary: 'submit, list, show, cancel and watch jobs of a running daemon' },
  health: { load: async () => (await import('./commands/health.js')).healthCommand, summary: "check a running daemon's /healthz at its configured address and TLS (the container's HEALTHCHECK)" },
  errors: { load: async () => (await import('./commands/errors.js')).errorsCommand, summary: 'list every error code with its exit status and meaning' },
  export: { load: async () => (await import('./commands/export.js')).exportCommand, summary: 'export an AWS or Alibaba Cloud image to a bucket and download it' },
  unpack: { load: async () => (await import('./commands/unpack.js')).unpackCommand, summary: 'extract a local OVA into a directory, verifying its manifest' },
  image: { load: async () => (await import('./commands/image.js')).imageCommand, summary: 'copy an AWS or Alibaba Cloud image to other regions, or share it with accounts' },
  config: { load: async () => (await import('./commands/config.js')).configCommand, summary: 'show the effective configuration (file, VMXFER_* variables, defaults) with origins' },
  preflight: { load: async () => (await import('./commands/preflight.js')).preflightCommand, summary: 'check what a cloud import would refuse, before any upload' },
};

export const MAIN_USAGE = `vmxfer: move virtual-machine disk images between hypervisors and object stores

Usage: vmxfer COMMAND [options]   (vmxfer COMMAND --help or vmxfer help COMMAND for details)
       vmxfer -V | --version         version, commit, Node and SDK versions
Every command takes -v/--verbose (store requests, retries and timings on stderr) and -h/--help.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Exit codes: 0 success, ${EXIT_CODES.usage} usage error, ${EXIT_CODES['invalid-input']} invalid input image, ${EXIT_CODES.unsupported} unsupported input,
  ${EXIT_CODES.io} I/O failure, ${EXIT_CODES.integrity} integrity check failed, ${EXIT_CODES.remote} remote store/cloud error,
  ${EXIT_CODES.internal} internal error, ${EXIT_CODES.aborted} cancelled.`;

export async function main(argv: string[]): Promise<number> {
  quietOnBrokenPipe();
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(MAIN_USAGE + '\n');
    return name ? 0 : EXIT_CODES.usage;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write((await import('./version.js')).versionText());
    return 0;
  }
  // `vmxfer help CMD` is `vmxfer CMD --help`.
  if (name === 'help') return rest[0] ? main([rest[0], '--help']) : main(['--help']);
  if (verboseRequested(rest)) setVerbose((line) => process.stderr.write(`vmxfer: ${line}\n`));
  const controller = new AbortController();
  const onSignal = (sig: string) => controller.abort(vmxError(CORE.ABORTED, `interrupted by ${sig}`));
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    const command = COMMANDS[name];
    if (!command) {
      const best = closest(name, Object.keys(COMMANDS));
      throw vmxError(CORE.USAGE, `unknown command "${name}"${best ? `; did you mean "${best}"?` : ''}`);
    }
    return await (await command.load())(rest, controller.signal);
  } catch (err) {
    return report(err, COMMANDS[name] ? name : undefined, json);
  }
}

/** -v/--verbose anywhere before a `--`. */
function verboseRequested(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '-v' || a === '--verbose');
}

/** `vmxfer errors | head`: the reader went away, which is not an error of ours. */
function quietOnBrokenPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

/** One line on stderr (and with --json one JSON line on stdout); the exit status of the error's category. */
function report(err: unknown, command: string | undefined, json: boolean): number {
  const typed = isVmxferError(err) ? err : environmentError(err);
  if (!typed) {
    if (json) process.stdout.write(JSON.stringify({ type: 'error', code: CORE.INTERNAL.code, category: 'internal', message: String((err as Error)?.message ?? err) }) + '\n');
    process.stderr.write(`vmxfer: internal error [${CORE.INTERNAL.code}]: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT_CODES.internal;
  }
  const message = typed.category === 'usage' ? usageLine(typed, command) : typed.message;
  if (json) process.stdout.write(JSON.stringify({ type: 'error', ...typed.toJSON(), message }) + '\n');
  process.stderr.write(`vmxfer: ${typed.name}: ${message}\n`);
  return typed.exitCode;
}

/**
 * A usage error without the help text the commands attach after a blank line: its sentence (with any
 * lines that belong to it, such as preflight findings), its code and where help is.
 */
function usageLine(err: VmxferError, command: string | undefined): string {
  const sentence = err.message.split('\n\n')[0]!.replace(/ \[[A-Z0-9_]+\]$/, '');
  return `${sentence} [${err.code}]; see vmxfer ${command ? `${command} ` : ''}--help`;
}
