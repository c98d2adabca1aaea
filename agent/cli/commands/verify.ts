import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { STORE_FLAGS, STORE_FLAGS_HELP, cliSinks } from '../store-flags.js';
import { renderProgress } from '../progress-renderer.js';
import { ProgressTracker } from '../../core/progress.js';
import { formatBytes } from '../../core/units.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { verifyObject } from '../../transfer/verify-object.js';

export const VERIFY_USAGE = `Usage: vmxfer verify URL [--source FILE] [options]

Reads the object at URL back with parallel ranged GETs (nothing is written locally) and checks it:
its size, the store's whole-object checksum (OSS CRC-64, the S3 multipart ETag when vmxfer recorded
the part size, a single-part MD5 ETag), and the digest its upload tagged it with (vmxfer-digest, or the
older vmxfer-sha256; docs/integrity.md). A difference fails with XFER_VERIFY_FAILED or
XFER_SHA256_MISMATCH.
  --source FILE       also check that FILE's virtual content (any format vmxfer reads) is the
                      content the object was made from (its vmxfer-source-digest tag)
  --concurrency N     ranges in flight (default 4)
  --json              JSON progress lines and a JSON result
${STORE_FLAGS_HELP}`;

export async function verifyCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { ...STORE_FLAGS, source: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' } },
    VERIFY_USAGE,
  );
  if (values.help) return printUsage(VERIFY_USAGE);
  const [url] = requirePositionals(positionals, ['URL'], VERIFY_USAGE);
  const concurrency = values.concurrency ? Number(values.concurrency) : 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw vmxError(CORE.USAGE, `--concurrency must be an integer from 1 to 64`);
  const { sink, key } = await cliSinks(values).open(url!);
  const progress = new ProgressTracker();
  const stop = renderProgress(progress, values.json ? 'json' : process.stderr.isTTY ? 'tty' : 'none');
  try {
    const r = await verifyObject({ url: url!, key, sink, concurrency, source: values.source as string | undefined, signal, progress });
    stop();
    if (values.json) process.stdout.write(JSON.stringify({ type: 'result', ...r }) + '\n');
    else {
      process.stdout.write(
        `${r.url}: ${formatBytes(r.objectSize)} verified by ${r.verified}` +
          `${r.digestVerified ? `, digest tag ${r.digestVerified}` : ', no digest tag'}` +
          `${r.sourceVerified ? `, source content ${r.sourceVerified}` : ''}\n`,
      );
    }
    return 0;
  } finally {
    stop();
  }
}
