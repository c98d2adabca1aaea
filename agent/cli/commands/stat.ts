import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { STORE_FLAGS, STORE_FLAGS_HELP, cliSinks } from '../store-flags.js';
import { formatBytes } from '../../core/units.js';
import { STORE } from '../../sinks/error-codes.js';
import { vmxError } from '../../core/errors.js';
import type { ObjectSink } from '../../sinks/object-sink.js';
import { READERS } from '../../formats/registry.js';

export const STAT_USAGE = `Usage: vmxfer stat URL [--json] [options]

Shows an object of s3://, oss:// or file:// without downloading it: size, ETag, the number of parts
of a multipart upload (from the ETag's -N suffix), its metadata and tags (vmxfer-digest and
vmxfer-source-digest, or vmxfer-sha256 with --sha256, when vmxfer uploaded and verified it) and the disk image format sniffed from its
first 64 KiB and last 512 bytes (two ranged GETs).
  --json              one JSON object
${STORE_FLAGS_HELP}`;

export async function statCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_FLAGS, json: { type: 'boolean' } }, STAT_USAGE);
  if (values.help) return printUsage(STAT_USAGE);
  const [url] = requirePositionals(positionals, ['URL'], STAT_USAGE);
  const { sink, key } = await cliSinks(values).open(url!);
  const info = await sink.head(key, signal);
  if (!info) throw vmxError(STORE.NO_SUCH_KEY, `no object ${url}`);
  const [tags, format] = await Promise.all([sink.getTags(key, signal), sniffFormat(sink, key, info.size, signal)]);
  const parts = /-(\d+)"?$/.exec(info.etag)?.[1];
  const out = { url, size: info.size, etag: info.etag, parts: parts ? Number(parts) : 1, format, metadata: info.metadata ?? {}, tags };
  if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
  else {
    const kv = (r: Record<string, string>) => Object.entries(r).map(([k, v]) => `  ${k}: ${v}`).join('\n') || '  (none)';
    process.stdout.write(
      `${url}\nsize: ${formatBytes(out.size)} (${out.size} bytes)\netag: ${out.etag}\nparts: ${out.parts}${parts ? '' : ' (single-part ETag)'}\n` +
        `format: ${format}\nmetadata:\n${kv(out.metadata)}\ntags:\n${kv(tags)}\n`,
    );
  }
  return 0;
}

/** The reader that recognises the object's first 64 KiB and last 512 bytes, as `inspect` does a file's. */
async function sniffFormat(sink: ObjectSink, key: string, size: number, signal: AbortSignal): Promise<string> {
  if (size === 0) return 'empty';
  const headLen = Math.min(size, 65536);
  const tailLen = Math.min(size, 512);
  const [head, tail] = await Promise.all([sink.getRange(key, 0, headLen, signal), sink.getRange(key, size - tailLen, size, signal)]);
  return READERS.find((r) => r.probe({ path: key, size, head, tail }))?.name ?? 'unknown';
}
