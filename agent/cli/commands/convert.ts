import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { convertWorkflow } from '../../workflows/convert.js';
import { ProgressTracker } from '../../core/progress.js';
import { renderProgress } from '../progress-renderer.js';
import { formatBytes } from '../../core/units.js';
import { WRITERS } from '../../formats/registry.js';
import { WorkerPool } from '../../pipeline/worker-pool.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { parseDiskOption } from '../disk-option.js';

export const CONVERT_USAGE = `Usage: vmxfer convert SRC [SRC...] DST --to FORMAT [--json] [--format FMT] [--parent FILE] [--disk N]

Reads SRC (format detected) and writes DST in FORMAT in one streaming pass. Several SRCs are
allowed when FORMAT is ova: each becomes one disk of the OVA, in order.
  --to FORMAT     output format: ${WRITERS.map((w) => w.target).join(', ')}
  --json          one JSON progress line per second and a JSON result on stdout
  --format FMT    skip detection and read SRC as FMT
  --parent FILE   the parent of a differencing/delta disk when it is not beside it
  --disk N        which disk of an OVA/OVF source to read (1-based, in OVF order; default 1)
  --compress      qcow2 only: store compressed clusters (what qemu-img convert -c does)
  --no-source-hash  skip the digest of the source's virtual content
  --sha256        digests are full-content SHA-256s (comparable with sha256sum; they hash every
                  virtual byte, zeros included: about 1 CPU-second per 1.2-1.5 GB of virtual size)
                  instead of the default sha256-linear-512k, which skips zeros (docs/integrity.md)
  --workers N     compression threads (default: the cores available, ${WorkerPool.defaultThreads()} here; 0 = inline)
A progress bar is drawn on stderr when it is a terminal.`;

export async function convertCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      to: { type: 'string' }, json: { type: 'boolean' }, format: { type: 'string' }, parent: { type: 'string' }, disk: { type: 'string' },
      workers: { type: 'string' }, compress: { type: 'boolean' }, 'no-source-hash': { type: 'boolean' }, sha256: { type: 'boolean' },
    },
    CONVERT_USAGE,
  );
  if (values.help) return printUsage(CONVERT_USAGE);
  requirePositionals(positionals, ['SRC', 'DST'], CONVERT_USAGE, Infinity);
  const [src, ...rest] = positionals;
  const dst = rest.pop();
  const disk = parseDiskOption(values.disk as string | undefined, CONVERT_USAGE);
  if (!values.to) throw vmxError(CORE.USAGE, `--to FORMAT is required\n\n${CONVERT_USAGE}`);
  const progress = new ProgressTracker();
  const stop = renderProgress(progress, values.json ? 'json' : process.stderr.isTTY ? 'tty' : 'none');
  try {
    const result = await convertWorkflow(
      {
        source: src!,
        destination: dst!,
        to: values.to as string,
        from: values.format as string | undefined,
        parent: values.parent as string | undefined,
        extraSources: rest,
        disk,
        workers: parseWorkers(values.workers as string | undefined),
        compress: values.compress as boolean | undefined,
        hashSource: !values['no-source-hash'],
        digest: values.sha256 ? 'sha256' : undefined,
      },
      { signal, progress },
    );
    stop();
    if (values.json) process.stdout.write(JSON.stringify({ type: 'result', ...result }) + '\n');
    else {
      process.stdout.write(
        `${result.destination}: ${result.target}, ${formatBytes(result.outputBytes)} from ${formatBytes(result.virtualSize)} virtual in ${result.seconds.toFixed(2)} s\n` +
          `source digest: ${result.sourceDigest ?? '-'}\noutput digest: ${result.outputDigest}\n`,
      );
    }
    return 0;
  } finally {
    stop();
  }
}

export function parseWorkers(text: string | undefined): number | undefined {
  if (text === undefined || text === 'auto') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 256) throw vmxError(CORE.USAGE, `--workers must be an integer from 0 to 256 or "auto", got "${text}"`);
  return n;
}
