import { join } from 'node:path';
import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { STORE_FLAGS, STORE_FLAGS_HELP, cliConfig, keyValues, stateDir, cliSinks } from '../store-flags.js';
import { renderProgress } from '../progress-renderer.js';
import { ProgressTracker } from '../../core/progress.js';
import { parseSize, formatBytes } from '../../core/units.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { WRITERS } from '../../formats/registry.js';
import { sharedTokenBucket } from '../../sinks/token-bucket.js';
import { FileCheckpointStore } from '../../checkpoint/checkpoint-store.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../transfer/upload-checkpoint.js';
import { uploadWorkflow } from '../../workflows/upload.js';
import { cliPorts } from '../cli-ports.js';
import { cancelUpload } from '../../transfer/cancel-upload.js';
import type { UploadOptions } from '../../sinks/object-sink.js';
import { WorkerPool } from '../../pipeline/worker-pool.js';
import { parseWorkers } from './convert.js';
import { IMPORT_FLAGS, IMPORT_FLAGS_HELP, importConnections, importOptions } from '../import-flags.js';
import { importSummary, preflightUploadImport } from '../upload-import.js';
import { DISTRIBUTE_FLAGS, DISTRIBUTE_FLAGS_HELP, distributeFromFlags } from '../distribute-flags.js';
import { distributeSummary, throwIfShareFailed } from '../distribute-output.js';
import { EBS_FLAGS, EBS_FLAGS_HELP, ebsUploadCommand } from '../ebs-upload.js';
import { isEbsUrl } from '../../ebs/ebs-url.js';
import { changeListFlags } from '../change-list-flags.js';

export const UPLOAD_USAGE = `Usage: vmxfer upload SRC URL [--as FORMAT] [options]

Converts SRC on the fly and uploads it as a multipart object to URL (s3://bucket/key,
oss://bucket/key or file:///path), or writes it into an EBS snapshot (ebs://REGION[/snap-PARENT]), sending parts in parallel and writing a checkpoint after each
confirmed part. After a crash, kill -9, SIGTERM or network loss, run the same command with
--resume: only the parts the store does not confirm are sent again. A resume regenerates the parts
with the compressor the upload started with, or refuses (XFER_RESUME_ENCODER) naming the missing one.
  --as FORMAT         ${['original', ...WRITERS.map((w) => w.target)].join(' | ')} (default original: bytes unchanged,
                      after the reader checked the container: one cut short or with tables
                      past its end is refused with the reader's code)
  --incremental       send only the parts that changed since the last --incremental upload to URL;
                      the store copies the others from the object it holds (UploadPartCopy) and
                      Complete replaces it atomically; URL.vmxfer-manifest records the SHA-256s
                      of each part's 512 KiB blocks. Needs --as raw or vhd-fixed, or original of a
                      raw file (docs/warm-migration.md); without a matching manifest it uploads in full
  --changed-blocks FILE  with --incremental (or to ebs://REGION/snap-PARENT), a raw SRC: read only
                      the parts (512 KiB blocks for EBS) that the extents in FILE touch
                      (JSON {"version":1,"virtualSize":N,"extents":[{"offset":O,"length":L}]},
                      every range written since the pass that wrote the manifest; vmxfer changed-blocks
                      converts VMware and qemu-img map output); the store copies every other part
                      without the source being read; --resume and the digest tags as for any upload.
                      A list whose virtualSize is not the source's and the object's is refused
                      (INCR_CHANGED_MISMATCH)
  --changed-since BITMAP  with --incremental (or to ebs://REGION/snap-PARENT), a qcow2 SRC (no backing
                      file) uploaded --as raw: the changed ranges are the bits set in SRC's
                      persistent dirty bitmap BITMAP (qemu-img bitmap --add --enable); one marked
                      in use is refused (INCR_BITMAP_IN_USE)
  --resume            continue the interrupted upload of SRC to URL
  --cancel            abort the interrupted upload of SRC to URL at the store and delete its checkpoint
  --restart           abandon the interrupted upload of SRC to URL (aborted at the store) and start again;
                      without --resume, --cancel or --restart an upload that has a checkpoint is refused
  --part-size SIZE    e.g. 16MiB, at most 2047MiB (default: sized from the largest possible output,
                      at least 16MiB)
  --concurrency N     parts in flight (default transfer.concurrency: 4)
  --bwlimit RATE      bytes per second for the whole process, e.g. 50MiB
  --sse ALG           server-side encryption: AES256, aws:kms (S3) or KMS (OSS)
  --sse-kms-key-id ID KMS key for --sse aws:kms / KMS
  --storage-class C   e.g. STANDARD_IA, GLACIER_IR (S3), IA, Archive (OSS)
  --tag K=V           object tag (repeatable, at most 8: vmxfer adds vmxfer-digest and
                      vmxfer-source-digest once the object is verified; S3 and OSS allow 10)
  --sha256            tag full-content SHA-256s (vmxfer-sha256, vmxfer-source-sha256; comparable
                      with sha256sum, they hash every zero) instead of sha256-linear-512k digests
  --metadata K=V      object metadata (repeatable)
  --format FMT        read SRC as FMT instead of detecting it
  --parent FILE       parent of a differencing/delta SRC
  --workers N         conversion threads (default: the cores available; 0 = inline)
  --json              JSON progress lines and a JSON result
${STORE_FLAGS_HELP}
${IMPORT_FLAGS_HELP}
${DISTRIBUTE_FLAGS_HELP}
${EBS_FLAGS_HELP}`;

export async function uploadCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      ...STORE_FLAGS,
      as: { type: 'string' },
      sha256: { type: 'boolean' },
      resume: { type: 'boolean' },
      incremental: { type: 'boolean' },
      'changed-blocks': { type: 'string' },
      'changed-since': { type: 'string' },
      cancel: { type: 'boolean' },
      restart: { type: 'boolean' },
      'part-size': { type: 'string' },
      concurrency: { type: 'string' },
      bwlimit: { type: 'string' },
      sse: { type: 'string' },
      'sse-kms-key-id': { type: 'string' },
      'storage-class': { type: 'string' },
      tag: { type: 'string', multiple: true },
      metadata: { type: 'string', multiple: true },
      format: { type: 'string' },
      parent: { type: 'string' },
      json: { type: 'boolean' },
      workers: { type: 'string' },
      ...IMPORT_FLAGS,
      ...DISTRIBUTE_FLAGS,
      ...EBS_FLAGS,
    },
    UPLOAD_USAGE,
  );
  if (values.help) return printUsage(UPLOAD_USAGE);
  const [src, url] = requirePositionals(positionals, ['SRC', 'URL'], UPLOAD_USAGE);
  for (const k of ['changed-blocks', 'changed-since'] as const) {
    // An ebs:// pass is incremental by its parent snapshot.
    if (values[k] !== undefined && !values.incremental && !isEbsUrl(url!)) throw vmxError(CORE.USAGE, `--${k} needs --incremental (or vmxfer sync)\n\n${UPLOAD_USAGE}`);
  }
  if (values['changed-blocks'] !== undefined && values['changed-since'] !== undefined) throw vmxError(CORE.USAGE, `--changed-blocks and --changed-since exclude each other\n\n${UPLOAD_USAGE}`);
  const chosen = (['resume', 'cancel', 'restart'] as const).filter((k) => values[k]);
  if (chosen.length > 1) throw vmxError(CORE.USAGE, `--${chosen[0]} and --${chosen[1]} exclude each other\n\n${UPLOAD_USAGE}`);
  // The configuration's transfer section (file, VMXFER_TRANSFER_*) gives the defaults, as for daemon jobs.
  const transfer = cliConfig(values).transfer;
  const concurrency = values.concurrency ? Number(values.concurrency) : transfer.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw vmxError(CORE.USAGE, `--concurrency must be an integer from 1 to 64`);
  const cloudImport = values.cancel ? undefined : importOptions(values, UPLOAD_USAGE);
  const distribute = values.cancel ? undefined : distributeFromFlags(values, cloudImport, UPLOAD_USAGE);
  if (isEbsUrl(url!)) {
    if (distribute) throw vmxError(CORE.USAGE, `copies and shares do not follow an ebs:// upload\n\n${UPLOAD_USAGE}`);
    return ebsUploadCommand(src!, url!, values, cloudImport, UPLOAD_USAGE, signal);
  }
  const ebsOnly = (Object.keys(EBS_FLAGS) as Array<keyof typeof EBS_FLAGS>).find((k) => values[k] !== undefined);
  if (ebsOnly) throw vmxError(CORE.USAGE, `--${ebsOnly} applies to an ebs:// destination only\n\n${UPLOAD_USAGE}`);
  const importing = cloudImport && { ...cloudImport, copy: distribute?.copies, share: distribute?.share };
  const plan = importing && (await preflightUploadImport(src!, url!, importing, values, UPLOAD_USAGE, signal));
  const checkpoints = new FileCheckpointStore<UploadCheckpoint>(join(stateDir(values), 'checkpoints'), isUploadCheckpoint);
  if (values.cancel) {
    const { sink, key } = await cliSinks(values).open(url!);
    const c = await cancelUpload({ source: src!, destination: url!, key, sink, checkpoints, signal });
    const what = c.uploadId === undefined ? 'no interrupted upload to cancel' : `upload ${c.uploadId} ${c.abortedAtStore ? 'aborted' : 'was already gone at the store'}; checkpoint deleted`;
    process.stdout.write(values.json ? JSON.stringify({ type: 'result', cancelled: c.uploadId !== undefined, ...c }) + '\n' : `${url}: ${what}\n`);
    return 0;
  }
  const progress = new ProgressTracker();
  const pool = new WorkerPool(parseWorkers(values.workers as string | undefined) ?? WorkerPool.defaultThreads());
  const stop = renderProgress(progress, values.json ? 'json' : process.stderr.isTTY ? 'tty' : 'none');
  try {
    const request = {
      source: src!,
      destination: url!,
      as: plan?.as ?? (values.as as string | undefined) ?? 'original',
      from: values.format as string | undefined,
      parent: values.parent as string | undefined,
      partSize: values['part-size'] ? parseSize(values['part-size'] as string, '--part-size') : transfer.part_size === 'auto' ? undefined : transfer.part_size,
      concurrency,
      resume: values.restart ? ('restart' as const) : Boolean(values.resume),
      digest: values.sha256 ? ('sha256' as const) : undefined,
      onNote: (sentence: string) => process.stderr.write(`vmxfer: ${sentence}\n`),
      checkpoints,
      uploadOptions: uploadOptions(values),
      bandwidth: sharedTokenBucket(values.bwlimit ? parseSize(values.bwlimit as string, '--bwlimit') : transfer.bwlimit || undefined),
      pool,
    };
    const connections = cloudImport ? importConnections(values, cloudImport, UPLOAD_USAGE) : {};
    const ports = cliPorts(values, connections, UPLOAD_USAGE, signal, progress);
    // The terminal's progress line ends with the transfer; the import's task statuses follow it.
    const reporter = { ...ports.reporter, phase: () => stop() };
    const changed = await changeListFlags(src!, values);
    const incremental = values.incremental ? { warn: (sentence: string) => process.stderr.write(`vmxfer: warning: ${sentence}\n`), changed } : undefined;
    const done = await uploadWorkflow({ transfer: request, incremental, import: importing && plan ? { options: importing, plan } : undefined }, { ...ports, reporter });
    stop();
    const { upload: result, imported, distributed } = done;
    if (values.json) process.stdout.write(JSON.stringify({ type: 'result', ...result, ...(imported ? { import: distributed ? { ...imported, ...distributed } : imported } : {}) }) + '\n');
    else {
      process.stdout.write(
        `${url}: ${formatBytes(result.objectSize)} in ${result.parts} parts of ${formatBytes(result.partSize)} ` +
          `(${result.partsSent} sent, ${result.partsCopied ? `${result.partsCopied} copied by the store, ` : ''}${result.partsSkipped} already there; ${formatBytes(result.bytesSent)} sent) in ${result.seconds.toFixed(2)} s, verified by ${result.verified}\n` +
          `etag: ${result.etag}\nsource digest: ${result.sourceDigest ?? '-'}\noutput digest: ${result.outputDigest ?? '-'}\n` +
          (imported ? importSummary(imported) : '') +
          (distributed ? distributeSummary(distributed) : ''),
      );
    }
    if (distributed) throwIfShareFailed(distributed);
    return 0;
  } catch (err) {
    if (signal.aborted) process.stderr.write(interruptedHint(src!, url!));
    throw err;
  } finally {
    stop();
    await pool.destroy();
  }
}

/** Ctrl-C leaves the checkpoint and the store's parts: say how to go on or clean up. */
function interruptedHint(src: string, url: string): string {
  const again = `vmxfer upload ${shellWord(src)} ${shellWord(url)}`;
  return `vmxfer: upload interrupted; the confirmed parts are kept. Continue with: ${again} --resume (same options)\n` + `vmxfer: or abort it at the store with: ${again} --cancel\n`;
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function uploadOptions(values: Record<string, unknown>): UploadOptions {
  const sse = values.sse as string | undefined;
  return {
    storageClass: values['storage-class'] as string | undefined,
    tags: keyValues(values.tag as string[] | undefined, 'tag'),
    metadata: keyValues(values.metadata as string[] | undefined, 'metadata'),
    encryption: sse ? { algorithm: sse, kmsKeyId: values['sse-kms-key-id'] as string | undefined } : undefined,
  };
}
