import { join } from 'node:path';
import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { STORE_FLAGS, STORE_FLAGS_HELP, stateDir, cliSinks } from '../store-flags.js';
import { renderProgress } from '../progress-renderer.js';
import { ProgressTracker } from '../../core/progress.js';
import { formatBytes, parseSize } from '../../core/units.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { WRITERS } from '../../formats/registry.js';
import { sharedTokenBucket } from '../../sinks/token-bucket.js';
import { FileCheckpointStore } from '../../checkpoint/checkpoint-store.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../transfer/download-checkpoint.js';
import { downloadWorkflow } from '../../workflows/download.js';
import { MAX_RANGE_SIZE } from '../../transfer/range-plan.js';

export const DOWNLOAD_USAGE = `Usage: vmxfer download URL DST [--to FORMAT] [options]

Downloads the object at URL (s3://bucket/key, oss://bucket/key or file:///path) with parallel
ranged GETs written in place into .DST.vmxfer-partial, a checkpoint after each range; verifies the
size and the store's whole-object checksum (S3 multipart ETag, OSS CRC-64) before renaming it to DST;
an object vmxfer uploaded is also checked against its vmxfer-digest (or older vmxfer-sha256) tag
(docs/integrity.md).
  --to FORMAT         convert on the way: ${WRITERS.map((w) => w.target).join(' | ')}
                      A stream-optimized VMDK or a raw object is converted straight from the ordered
                      stream of GETs (no temporary copy; such a conversion restarts from the first
                      byte on --resume). Other formats (qcow2, VHD, VHDX, VDI, other VMDKs) need
                      seeks: the object is downloaded to .DST.source.vmxfer-partial (resumable),
                      converted locally, and that copy removed.
  --resume            continue an interrupted download of URL to DST
  --concurrency N     ranges in flight (default 4); memory is N x the range size
  --range-size SIZE   bytes per GET (default: the object's part size when vmxfer uploaded it, else 16MiB; at most ${formatBytes(MAX_RANGE_SIZE)})
  --bwlimit RATE      bytes per second for the whole process, e.g. 50MiB
  --json              JSON progress lines and a JSON result
${STORE_FLAGS_HELP}`;

export async function downloadCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      ...STORE_FLAGS,
      to: { type: 'string' },
      resume: { type: 'boolean' },
      concurrency: { type: 'string' },
      'range-size': { type: 'string' },
      bwlimit: { type: 'string' },
      json: { type: 'boolean' },
    },
    DOWNLOAD_USAGE,
  );
  if (values.help) return printUsage(DOWNLOAD_USAGE);
  const [url, dst] = requirePositionals(positionals, ['URL', 'DST'], DOWNLOAD_USAGE);
  const concurrency = values.concurrency ? Number(values.concurrency) : 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw vmxError(CORE.USAGE, `--concurrency must be an integer from 1 to 64`);
  const rangeSize = values['range-size'] ? parseSize(values['range-size'] as string, '--range-size') : undefined;
  if (rangeSize !== undefined && (rangeSize < 1 || rangeSize > MAX_RANGE_SIZE)) throw vmxError(CORE.USAGE, `--range-size must be from 1 byte to ${formatBytes(MAX_RANGE_SIZE)}`);
  const checkpoints = new FileCheckpointStore<DownloadCheckpoint>(join(stateDir(values), 'downloads'), isDownloadCheckpoint);
  const progress = new ProgressTracker();
  const stop = renderProgress(progress, values.json ? 'json' : process.stderr.isTTY ? 'tty' : 'none');
  try {
    const result = await downloadWorkflow(
      {
        url: url!,
        destination: dst!,
        to: values.to as string | undefined,
        concurrency,
        resume: Boolean(values.resume),
        checkpoints,
        rangeSize,
        bandwidth: sharedTokenBucket(values.bwlimit ? parseSize(values.bwlimit as string, '--bwlimit') : undefined),
      },
      { sinks: cliSinks(values), progress, signal },
    );
    stop();
    if (values.json) process.stdout.write(JSON.stringify({ type: 'result', ...result }) + '\n');
    else {
      const conv = result.conversion ? `, converted ${result.conversion.from} -> ${result.conversion.to} (${result.conversion.mode}), ${formatBytes(result.conversion.outputBytes)} written` : '';
      process.stdout.write(
        `${result.destination}: ${formatBytes(result.objectSize)} in ${result.rangesFetched + result.rangesSkipped} ranges ` +
          `(${result.rangesFetched} fetched, ${result.rangesSkipped} already there)${conv} in ${result.seconds.toFixed(2)} s, verified by ${result.verified}` +
          `${result.digestVerified ? ` and the object's digest tag (${result.digestVerified})` : ''}\n`,
      );
    }
    return 0;
  } finally {
    stop();
  }
}
