import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { STORE_FLAGS, STORE_FLAGS_HELP, cliSinks } from '../store-flags.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { formatBytes } from '../../core/units.js';

export const LS_USAGE = `Usage: vmxfer ls URL-PREFIX [--json] [--page-size N] [options]

Lists the objects of s3://, oss:// or file:// whose keys start with the URL's key (s3://bucket/
lists the whole bucket), in key order: size, last modified, key. The listing is fetched a page at
a time (S3 ListObjectsV2, OSS ListObjects; a directory walk for file://, which skips vmxfer's own
.vmxfer-* state). Unfinished multipart uploads are not objects: see vmxfer gc.
  --json              one JSON line per object ({"type":"object",key,size,lastModified,etag}), then a result line
  --page-size N       keys per listing request, 1..1000 (default 1000)
${STORE_FLAGS_HELP}`;

export async function lsCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_FLAGS, json: { type: 'boolean' }, 'page-size': { type: 'string' } }, LS_USAGE);
  if (values.help) return printUsage(LS_USAGE);
  const [url] = requirePositionals(positionals, ['URL-PREFIX'], LS_USAGE);
  const pageSize = parsePageSize(values['page-size']);
  const { sink, prefix } = await cliSinks(values).openBucket(url!, pageSize);
  let count = 0;
  let bytes = 0;
  for await (const o of sink.listObjects(prefix, signal)) {
    count++;
    bytes += o.size;
    const line = values.json
      ? JSON.stringify({ type: 'object', key: o.key, size: o.size, lastModified: o.lastModified.toISOString(), etag: o.etag })
      : `${String(o.size).padStart(14)}  ${o.lastModified.toISOString()}  ${o.key}`;
    process.stdout.write(line + '\n');
  }
  process.stdout.write(values.json ? JSON.stringify({ type: 'result', url, objects: count, bytes }) + '\n' : `${count} object(s), ${formatBytes(bytes)}\n`);
  return 0;
}

function parsePageSize(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 1000) throw vmxError(CORE.USAGE, `--page-size "${raw}" is not an integer from 1 to 1000\n\n${LS_USAGE}`);
  return n;
}
