import { join } from 'node:path';
import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { STORE_FLAGS, STORE_FLAGS_HELP, stateDir, cliSinks } from '../store-flags.js';
import { parseDuration } from '../duration.js';
import { FileCheckpointStore } from '../../checkpoint/checkpoint-store.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../transfer/upload-checkpoint.js';
import { collectStaleUploads, type GcEntry } from '../../transfer/gc.js';

export const GC_USAGE = `Usage: vmxfer gc URL-PREFIX [--older-than 24h] [--dry-run] [--force] [--json]

Lists the multipart uploads under URL-PREFIX (s3://bucket/prefix, oss://bucket/prefix or
file:///dir/prefix) and aborts the stale ones, freeing the parts the store keeps (and bills).
  --older-than AGE    only uploads initiated at least AGE ago (default 24h; 90s, 30m, 7d...)
  --dry-run           print what would be aborted, abort nothing
  --force             also abort uploads a local checkpoint references (an upload --resume would
                      continue); their checkpoints are deleted
  --json              one JSON result
${STORE_FLAGS_HELP}`;

const WORDS: Record<GcEntry['action'], string> = {
  aborted: 'aborted',
  'would-abort': 'would abort',
  'kept-young': 'kept (younger than --older-than)',
  'kept-checkpoint': 'kept (a local checkpoint references it; --force to abort)',
  'already-gone': 'already gone',
};

export async function gcCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { ...STORE_FLAGS, 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
    GC_USAGE,
  );
  if (values.help) return printUsage(GC_USAGE);
  const [url] = requirePositionals(positionals, ['URL-PREFIX'], GC_USAGE);
  const olderThanMs = parseDuration((values['older-than'] as string | undefined) ?? '24h', '--older-than');
  const { sink, prefix } = await cliSinks(values).openBucket(url!);
  const checkpoints = new FileCheckpointStore<UploadCheckpoint>(join(stateDir(values), 'checkpoints'), isUploadCheckpoint);
  const entries = await collectStaleUploads({ sink, prefix, olderThanMs, dryRun: Boolean(values['dry-run']), force: Boolean(values.force), checkpoints, signal });
  if (values.json) {
    process.stdout.write(JSON.stringify({ type: 'result', prefix: url, uploads: entries }) + '\n');
    return 0;
  }
  for (const e of entries) process.stdout.write(`${WORDS[e.action]}: ${e.key} upload ${e.uploadId} initiated ${e.initiated ?? 'at an unknown time'}\n`);
  const count = (a: GcEntry['action']) => entries.filter((e) => e.action === a).length;
  process.stdout.write(`${entries.length} upload(s) under ${url}: ${count('aborted')} aborted, ${count('would-abort')} would be aborted, ${count('kept-young') + count('kept-checkpoint')} kept\n`);
  return 0;
}
