import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { STORE_FLAGS, STORE_FLAGS_HELP, cliSinks } from '../store-flags.js';
import { STORE } from '../../sinks/error-codes.js';
import { vmxError } from '../../core/errors.js';

export const RM_USAGE = `Usage: vmxfer rm URL [--force] [--json] [options]

Deletes one object of s3://, oss:// or file://. An object that does not exist is an error
(STORE_NO_SUCH_KEY, exit 7) unless --force. Unfinished multipart uploads are not objects: see vmxfer gc.
  --force             succeed when the object is already gone
  --json              one JSON result line
${STORE_FLAGS_HELP}`;

export async function rmCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_FLAGS, force: { type: 'boolean' }, json: { type: 'boolean' } }, RM_USAGE);
  if (values.help) return printUsage(RM_USAGE);
  const [url] = requirePositionals(positionals, ['URL'], RM_USAGE);
  const { sink, key } = await cliSinks(values).open(url!);
  // S3 and OSS answer a DELETE of a missing key with success: the HEAD first is what tells the operator.
  const existed = (await sink.head(key, signal)) !== undefined;
  if (!existed && !values.force) throw vmxError(STORE.NO_SUCH_KEY, `no object ${url} (use --force to accept that)`);
  if (existed) await sink.deleteObject(key, signal);
  process.stdout.write(values.json ? JSON.stringify({ type: 'result', url, deleted: existed }) + '\n' : `${url}: ${existed ? 'deleted' : 'was already gone'}\n`);
  return 0;
}
