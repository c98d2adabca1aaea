import { join } from 'node:path';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { formatBytes } from '../core/units.js';
import { FileCheckpointStore } from '../checkpoint/checkpoint-store.js';
import { pollEvery } from '../cloud/poll-task.js';
import type { ImportOptions } from '../cloud/upload-import/import-options.js';
import { parseEbsUrl } from '../ebs/ebs-url.js';
import { isEbsCheckpoint, type EbsCheckpoint } from '../ebs/snapshot-checkpoint.js';
import { cliConfig, keyValues } from './store-flags.js';
import { pollPolicy, statusPrinter } from './cloud-connection.js';
import { importSummary } from './upload-import.js';
import { ebsUploadWorkflow } from '../workflows/ebs-upload.js';
import { MemoryJournal } from '../workflows/memory-journal.js';
import { changeListFlags } from './change-list-flags.js';

type Values = Record<string, string | boolean | string[] | undefined>;

/** The flags only an ebs:// destination takes. */
export const EBS_FLAGS = {
  'ebs-description': { type: 'string' },
  'ebs-encrypted': { type: 'boolean' },
  'ebs-kms-key-arn': { type: 'string' },
  'ebs-timeout': { type: 'string' },
} as const;

export const EBS_FLAGS_HELP = `EBS snapshot destination (URL ebs://REGION[/snap-PARENT]: the EBS direct APIs write the disk into a new
snapshot, incremental to snap-PARENT when named; --tag K=V tags the snapshot; --concurrency defaults to 16;
--import aws-image then registers the snapshot as an AMI; with snap-PARENT, --changed-blocks FILE or
--changed-since BITMAP reads and writes only the blocks changed since the parent; docs/warm-migration.md):
  --ebs-description TEXT   snapshot description
  --ebs-encrypted          encrypt the snapshot   --ebs-kms-key-arn ARN  its KMS key (needs --ebs-encrypted)
  --ebs-timeout MIN        minutes without a write before EBS cancels the pending snapshot (10-4320, default 60)`;

/** `vmxfer upload SRC ebs://...`: the snapshot upload, then the optional ImportImage of the snapshot. */
export async function ebsUploadCommand(src: string, url: string, values: Values, cloudImport: ImportOptions | undefined, usage: string, signal: AbortSignal): Promise<number> {
  const target = parseEbsUrl(url);
  if (values.cancel) throw vmxError(CORE.USAGE, `--cancel does not apply to ${url}: EBS cancels a pending snapshot after its --ebs-timeout; use --restart to start a new one\n\n${usage}`);
  const stray = ['as', 'sse', 'sse-kms-key-id', 'storage-class', 'metadata', 'sha256', 'bwlimit', 'part-size', 'import-disk'].find((k) => values[k] !== undefined);
  if (stray) throw vmxError(CORE.USAGE, `--${stray} does not apply to an EBS snapshot destination (${url})\n\n${usage}`);
  if (cloudImport && cloudImport.target !== 'aws-image') throw vmxError(CORE.USAGE, `an ebs:// upload is already a snapshot: only --import aws-image (an AMI of it) applies, not ${cloudImport.target}\n\n${usage}`);
  if (values['ebs-kms-key-arn'] !== undefined && !values['ebs-encrypted']) throw vmxError(CORE.USAGE, `--ebs-kms-key-arn needs --ebs-encrypted\n\n${usage}`);
  // Loaded here, not at the top: it pulls in the EC2 and IAM SDKs (~0.6 CPU-s), which every `vmxfer upload` would pay.
  if (cloudImport) (await import('../ebs/snapshot-image.js')).checkSnapshotImage(cloudImport);
  const timeout = values['ebs-timeout'] === undefined ? undefined : Number(values['ebs-timeout']);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 10 && timeout <= 4320)) throw vmxError(CORE.USAGE, `--ebs-timeout takes whole minutes from 10 to 4320\n\n${usage}`);
  const concurrency = values.concurrency === undefined ? 16 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw vmxError(CORE.USAGE, `--concurrency must be an integer from 1 to 64`);
  const config = cliConfig(values);
  const endpoint = (values.endpoint as string | undefined) ?? (config.cloud.aws_endpoint || undefined);
  const retry = { attempts: config.cloud.retries, baseDelayMs: 500, maxDelayMs: 30_000, requestTimeoutMs: config.cloud.request_timeout_seconds * 1000 };
  const poll = values['poll-seconds'] !== undefined ? pollPolicy(values, usage) : pollEvery(config.cloud.poll_seconds);
  const json = values.json === true;
  const onStatus = statusPrinter(json);
  let result;
  let imported;
  try {
    ({ snapshot: result, imported } = await ebsUploadWorkflow(
      {
        upload: {
          source: src,
          destination: url,
          from: values.format as string | undefined,
          parent: values.parent as string | undefined,
          connection: { endpoint, retry },
          concurrency,
          resume: values.restart ? 'restart' : Boolean(values.resume),
          snapshot: {
            description: values['ebs-description'] as string | undefined,
            tags: keyValues(values.tag as string[] | undefined, 'tag'),
            encrypted: values['ebs-encrypted'] === true ? true : undefined,
            kmsKeyArn: values['ebs-kms-key-arn'] as string | undefined,
            timeoutMinutes: timeout,
          },
          checkpoints: new FileCheckpointStore<EbsCheckpoint>(join(config.state_dir, 'checkpoints'), isEbsCheckpoint),
          changed: await changeListFlags(src, values),
          onNote: (sentence) => process.stderr.write(`vmxfer: ${sentence}\n`),
        },
        import: cloudImport && { options: cloudImport, region: (values['cloud-region'] as string | undefined) ?? target.region, endpoint: (values['cloud-endpoint'] as string | undefined) ?? endpoint },
      },
      { journal: new MemoryJournal(), poll, onStatus, onRetry: (code, attempt) => process.stderr.write(`vmxfer: ${code}, retry ${attempt}\n`), signal },
    ));
  } catch (err) {
    if (signal.aborted) process.stderr.write(`vmxfer: upload interrupted; the confirmed blocks are kept. Continue with the same command and --resume\n`);
    throw err;
  }
  if (json) process.stdout.write(JSON.stringify({ type: 'result', ...result, ...(imported ? { import: imported } : {}) }) + '\n');
  else {
    process.stdout.write(
      `${url}: snapshot ${result.snapshotId} (${result.volumeSizeGiB} GiB${result.parentSnapshotId ? `, parent ${result.parentSnapshotId}` : ''}) in ${result.seconds.toFixed(2)} s: ` +
        `${result.blocksWritten} of ${result.blocks} blocks written (${result.blocksSent} sent, ${formatBytes(result.bytesSent)}; ${result.blocksResumed} confirmed before), ` +
        `${result.zeroBlocksSkipped} zero blocks skipped, ${result.zeroBlocksWritten} zero blocks written over parent data` +
        `${result.blocksRead === undefined ? '' : `; ${result.blocksRead} blocks read for the change list`}\nchecksum (LINEAR SHA-256): ${result.checksum}\n` +
        (imported ? importSummary(imported) : ''),
    );
  }
  return 0;
}
