import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { parseDuration } from '../duration.js';
import { printUsage } from './inspect.js';
import { uploadCommand } from './upload.js';
import { Cutover, syncWorkflow } from '../../workflows/sync.js';
import { MemoryJournal } from '../../workflows/memory-journal.js';

export const SYNC_USAGE = `Usage: vmxfer sync SRC URL [--every DURATION] [--passes N] [--cutover] [upload options]

Warm migration (docs/warm-migration.md): runs \`vmxfer upload SRC URL --incremental\` passes, each sending
only the parts changed since the last one and having the store copy the rest.
  --every DURATION    start a pass every DURATION (e.g. 30m, 1h) until interrupted; without it, one pass
  --passes N          stop after N passes
  --cutover           the final pass (stop the VM first): one pass, then the --import given, if any;
                      --import is refused without --cutover, since only the last pass is imported
Every other option is upload's (vmxfer upload --help): --as raw | vhd-fixed (or original of a raw file),
--part-size, --concurrency, --bwlimit, store flags, --json, ...`;

/** The flags sync owns, taken out of argv; the rest is handed to upload unchanged. */
function takeSyncFlags(argv: string[]): { rest: string[]; every?: string; passes?: string; cutover: boolean; help: boolean } {
  const rest: string[] = [];
  const out: { every?: string; passes?: string; cutover: boolean; help: boolean } = { cutover: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name === '--every' || name === '--passes') {
      const v = inline ?? argv[++i];
      if (v === undefined) throw vmxError(CORE.USAGE, `${name} needs a value\n\n${SYNC_USAGE}`);
      out[name === '--every' ? 'every' : 'passes'] = v;
    } else if (a === '--cutover') out.cutover = true;
    else if (a === '--help' || a === '-h') out.help = true;
    else rest.push(a);
  }
  return { rest, ...out };
}

export async function syncCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const f = takeSyncFlags(argv);
  if (f.help) return printUsage(SYNC_USAGE);
  if (f.rest.includes('--incremental')) throw vmxError(CORE.USAGE, `sync passes are always incremental: drop --incremental\n\n${SYNC_USAGE}`);
  const imports = f.rest.some((a) => a === '--import' || a.startsWith('--import='));
  if (imports && !f.cutover) throw vmxError(CORE.USAGE, `--import runs after the final pass only: add --cutover (after stopping the VM)\n\n${SYNC_USAGE}`);
  if (f.cutover && (f.every !== undefined || f.passes !== undefined)) throw vmxError(CORE.USAGE, `--cutover is the one final pass: it takes neither --every nor --passes\n\n${SYNC_USAGE}`);
  const everyMs = f.every === undefined ? undefined : parseDuration(f.every, '--every');
  const passes = f.passes === undefined ? undefined : Number(f.passes);
  if (passes !== undefined && (!Number.isInteger(passes) || passes < 1)) throw vmxError(CORE.USAGE, `--passes must be a positive integer`);
  let code = 0;
  await syncWorkflow(
    {
      schedule: { everyMs, passes },
      cutover: new Cutover(f.cutover),
      pass: async (n, final) => {
        process.stderr.write(`vmxfer: sync pass ${n}${final ? ' (cutover)' : ''} started ${new Date().toISOString()}\n`);
        code = await uploadCommand([...f.rest, '--incremental'], signal);
        return { result: code };
      },
      onWait: (ms, next) => process.stderr.write(`vmxfer: sync pass ${next} in ${Math.round(ms / 1000)} s (Ctrl-C stops here, nothing is lost)\n`),
    },
    { journal: new MemoryJournal(), signal },
  ).catch((err: unknown) => {
    // Ctrl-C while waiting between passes: the passes done are complete objects; nothing is lost.
    if (!signal.aborted) throw err;
  });
  return code;
}
