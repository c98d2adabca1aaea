import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { renderProgress } from '../progress-renderer.js';
import { ProgressTracker } from '../../core/progress.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../../cloud/error-codes.js';
import { AWS_EXPORT_FORMATS, AWS_INSTANCE_DISK_FORMATS, AWS_TARGET_ENVIRONMENTS, ECS_EXPORT_FORMATS } from '../../cloud/export-formats.js';
import { formatFinding, hasErrors, type Finding } from '../../cloud/preflight/finding.js';
import { WRITERS } from '../../formats/registry.js';
import { exportSummary, localStep, ovaCopyPath, unpackDownloaded } from '../export-local.js';
import { describeUnpack } from './unpack.js';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../checkpoint/checkpoint-store.js';
import { isDownloadCheckpoint, type DownloadCheckpoint } from '../../transfer/download-checkpoint.js';
import { cliSinks, stateDir } from '../store-flags.js';
import { cliPorts } from '../cli-ports.js';
import { exportResult, exportWorkflow, type ExportResult } from '../../workflows/export.js';
import { exportFindings } from '../../workflows/export-preflight.js';
import { downloadedSha256, exportDiskDownload } from '../../workflows/download.js';
import type { ExportOptions } from '../../cloud/export-options.js';
import type { AwsExportFormat } from '../../cloud/export-formats.js';
import type { CloudConnections } from '../../cloud/upload-import/import-step-params.js';
import { awsConnection, CLOUD_OPTIONS, ecsConnection, oneOf, requireOption } from '../cloud-connection.js';

export const EXPORT_USAGE = `Usage:
  vmxfer export aws --image-id ami-… --format vmdk|vhd|raw --bucket B [--prefix P] [--to FORMAT] DST
  vmxfer export aws --instance-id i-… --disk-format VMDK|VHD|RAW --target-environment vmware|citrix|microsoft --bucket B [--prefix P]
                    [--to FORMAT [--disk N] | --unpack] DST
  vmxfer export ecs --image-id m-… --format raw|vhd|qcow2|vmdk|vdi --oss-bucket B --oss-prefix P [--to FORMAT] DST

Exports a cloud image into a bucket (AWS ExportImage or CreateInstanceExportTask with an OVA container;
Alibaba ECS ExportImage), follows the task until it ends (Ctrl-C cancels it: CancelExportTask / CancelTask),
then downloads the object (AWS: P + export-ami-….FORMAT, or P + export-i-….ova) to DST with parallel ranged
GETs, verified against the store's checksum. Ctrl-C during the download removes every disk's partial file and
download checkpoint and the disks already downloaded (the objects stay in the bucket): no half set is left. An ECS image with data disks exports one object per disk (the
task's DescribeTaskAttribute names them): the system disk goes to DST, data disk N to DST with .dataN before
its extension (web01.qcow2 → web01.data1.qcow2), each converted by --to as well.
Before the export the bucket is checked, and for an image export its role (--no-preflight skips that);
an image export (AWS or ECS) then calls ExportImage with DryRun first (--no-dry-run skips that;
CreateInstanceExportTask has no DryRun parameter).
  --to FORMAT           convert on the way, as vmxfer download --to: ${WRITERS.map((w) => w.target).join(' | ')}.
                        A stream-optimized VMDK or raw export converts from the stream of GETs; other
                        formats (and an instance's OVA) are downloaded to .DST.source.vmxfer-partial,
                        converted, and that copy removed.
  --disk N              with --to on an instance export: which disk of the OVA to convert (1-based, in
                        OVF order; default 1). With an OVA of several disks, --to writes the one picked:
                        run once per disk, or use --unpack to keep them all.
  --unpack              instance export: DST is a directory (new or empty) to extract the OVA into:
                        the .ovf, the .mf manifest, the disks, a .cert if any, each checked against the
                        manifest's digest. The OVA is downloaded to .DST.download.ova beside it first
                        and removed once unpacked (kept if the unpack fails). Also: vmxfer unpack OVA DIR.
  --region R            AWS_REGION / ALIBABA_CLOUD_REGION_ID when absent
  --endpoint URL        API endpoint override (EC2+IAM+S3, or ECS+RAM)
  --s3-endpoint URL     S3 endpoint override (aws; default --endpoint): the bucket checks and the download
  --oss-endpoint URL    OSS endpoint override (ecs)
  --role-name NAME      export role (default vmimport; ECS AliyunECSImageExportDefaultRole)
  --no-preflight        skip the bucket and role checks
  --no-dry-run          image export: call ExportImage without a DryRun call first
  --poll-seconds S      first wait between two task polls (default 10, backing off to 60)
  --state-dir DIR       where the download's checkpoints live (default $VMXFER_STATE_DIR or ~/.local/state/vmxfer)
  --json                JSON lines: one per task status, during the download one progress line per second
                        (and a last one), then the result (sha256: each file written). The progress, as the bar
                        on a terminal, is over every disk: totalBytes the sum of the objects' sizes, bytesRead
                        their bytes done, disk {index, count} the one downloading when there are several
Credentials: each SDK's standard chain (AWS: env, profile, SSO, instance role; Alibaba, for ECS, RAM and OSS alike:
  ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET with ALIBABA_CLOUD_SECURITY_TOKEN for STS, OIDC, ~/.aliyun/config.json,
  ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials, the ECS RAM role, ALIBABA_CLOUD_CREDENTIALS_URI).`;

const OPTIONS = {
  ...CLOUD_OPTIONS,
  'image-id': { type: 'string' }, 'instance-id': { type: 'string' }, format: { type: 'string' }, 'disk-format': { type: 'string' },
  'target-environment': { type: 'string' }, bucket: { type: 'string' }, prefix: { type: 'string' },
  'oss-bucket': { type: 'string' }, 'oss-prefix': { type: 'string' }, 'role-name': { type: 'string' }, 'no-preflight': { type: 'boolean' }, 'no-dry-run': { type: 'boolean' },
  's3-endpoint': { type: 'string' }, 'state-dir': { type: 'string' }, to: { type: 'string' }, disk: { type: 'string' }, unpack: { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;

export async function exportCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values: parsed, positionals } = parseCommand(argv, OPTIONS, EXPORT_USAGE);
  if (parsed.help) return printUsage(EXPORT_USAGE);
  const values = parsed as Values;
  const [cloud, dst] = requirePositionals(positionals, ['aws|ecs', 'DST'], EXPORT_USAGE);
  const json = values.json === true;
  if (cloud !== 'aws' && cloud !== 'ecs') throw vmxError(CORE.USAGE, `export takes aws or ecs, not "${cloud}"\n\n${EXPORT_USAGE}`);
  const instance = cloud === 'aws' && values['instance-id'] !== undefined;
  refuseForeignFlags(values, cloud === 'ecs' ? 'ecs' : instance ? 'instance' : 'image');
  if (values['no-dry-run'] && instance) throw vmxError(CORE.USAGE, `--no-dry-run applies to image exports only: CreateInstanceExportTask makes no DryRun call\n\n${EXPORT_USAGE}`);
  const step = await localStep(values, dst!, instance, EXPORT_USAGE);
  const request = exportRequest(cloud, instance, values);
  const connections = cloud === 'aws' ? { aws: awsConnection(values, EXPORT_USAGE) } : { ecs: ecsConnection(values, EXPORT_USAGE) };
  if (!values['no-preflight']) refuse(await exportFindings(request, connections, values['oss-endpoint'] as string | undefined, signal));
  const shown = downloadProgress(json);
  const destination = step.unpack ? ovaCopyPath(dst!) : dst!;
  const checkpoints = downloadCheckpoints(values);
  const ports = { ...cliPorts(values, connections, EXPORT_USAGE, signal, shown.progress), sinks: exportSinks(values, connections) };
  let result: ExportResult;
  try {
    const done = await exportWorkflow(
      {
        export: request,
        destination,
        checkpoints,
        converting: step.to !== undefined,
        download: exportDiskDownload({ to: step.to, disk: step.disk, concurrency: 4, checkpoints }, signal),
        knownSha256: downloadedSha256,
      },
      ports,
    );
    result = exportResult(done.exported, done.disks);
  } finally {
    shown.stop();
  }
  const unpacked = step.unpack ? await unpackDownloaded(destination, dst!, signal) : undefined;
  if (json) process.stdout.write(JSON.stringify({ type: 'result', ...result, ...(unpacked ? { unpacked } : {}) }) + '\n');
  else process.stdout.write(exportSummary(dst!, result, unpacked) + (unpacked ? describeUnpack(unpacked) : ''));
  return 0;
}

/** Flags another kind of export takes: given here they would be ignored, so they are refused. */
const FOREIGN_FLAGS: Record<'image' | 'instance' | 'ecs', string[]> = {
  image: ['instance-id', 'disk-format', 'target-environment', 'oss-bucket', 'oss-prefix', 'oss-endpoint'],
  instance: ['image-id', 'format', 'role-name', 'oss-bucket', 'oss-prefix', 'oss-endpoint'],
  ecs: ['instance-id', 'disk-format', 'target-environment', 'bucket', 'prefix', 's3-endpoint'],
};

function refuseForeignFlags(values: Values, kind: 'image' | 'instance' | 'ecs'): void {
  const stray = FOREIGN_FLAGS[kind].find((k) => values[k] !== undefined);
  const what = { image: 'an AWS image export', instance: 'an AWS instance export', ecs: 'an ECS export' }[kind];
  if (stray) throw vmxError(CORE.USAGE, `--${stray} is not an option of ${what}\n\n${EXPORT_USAGE}`);
}

/**
 * One progress over the download of every disk (export-progress.ts), drawn as `vmxfer download` draws its
 * own; it starts with the download, as the task's status lines come before.
 */
function downloadProgress(json: boolean): { progress: ProgressTracker; stop(): void } {
  const progress = new ProgressTracker();
  let stop = (): void => undefined;
  progress.once('phase', () => (stop = renderProgress(progress, json ? 'json' : process.stderr.isTTY ? 'tty' : 'none')));
  return { progress, stop: () => stop() };
}

/** The download's checkpoints, where `vmxfer download` keeps them (`--state-dir`). */
function downloadCheckpoints(values: Values): FileCheckpointStore<DownloadCheckpoint> {
  return new FileCheckpointStore<DownloadCheckpoint>(join(stateDir(values), 'downloads'), isDownloadCheckpoint);
}

function refuse(findings: Finding[]): void {
  if (!hasErrors(findings)) return;
  throw vmxError(CLOUD.PREFLIGHT_FAILED, `the export would fail:\n${findings.filter((f) => f.severity === 'error').map(formatFinding).join('\n')}`);
}

/** The export the flags describe, as an export job's `export` says it. */
function exportRequest(cloud: 'aws' | 'ecs', instance: boolean, values: Values): ExportOptions {
  const checks = { dryRun: values['no-dry-run'] === true ? false : undefined };
  if (cloud === 'ecs') {
    const format = oneOf(requireOption(values, 'format', EXPORT_USAGE), ECS_EXPORT_FORMATS, 'format', EXPORT_USAGE);
    return { cloud, imageId: requireOption(values, 'image-id', EXPORT_USAGE), format, bucket: requireOption(values, 'oss-bucket', EXPORT_USAGE), prefix: requireOption(values, 'oss-prefix', EXPORT_USAGE), roleName: values['role-name'] as string | undefined, ...checks };
  }
  const bucket = requireOption(values, 'bucket', EXPORT_USAGE);
  const prefix = (values.prefix as string | undefined) ?? '';
  if (!instance) {
    const format = oneOf(requireOption(values, 'format', EXPORT_USAGE), AWS_EXPORT_FORMATS, 'format', EXPORT_USAGE);
    return { cloud, imageId: requireOption(values, 'image-id', EXPORT_USAGE), format, bucket, prefix, roleName: values['role-name'] as string | undefined, ...checks };
  }
  const instanceId = requireOption(values, 'instance-id', EXPORT_USAGE);
  const diskFormat = oneOf(requireOption(values, 'disk-format', EXPORT_USAGE).toUpperCase(), AWS_INSTANCE_DISK_FORMATS, 'disk-format', EXPORT_USAGE);
  const targetEnvironment = oneOf(requireOption(values, 'target-environment', EXPORT_USAGE), AWS_TARGET_ENVIRONMENTS, 'target-environment', EXPORT_USAGE);
  return { cloud, instanceId, format: diskFormat.toLowerCase() as AwsExportFormat, targetEnvironment, bucket, prefix };
}

/**
 * The export bucket's sink, from the same configuration model as every store: the cloud's region (an ECS
 * region cn-hangzhou is the OSS region oss-cn-hangzhou) and the S3 or OSS endpoint flag, path-style with one.
 */
function exportSinks(values: Values, c: CloudConnections) {
  const endpoint = c.aws ? ((values['s3-endpoint'] ?? values.endpoint) as string | undefined) : (values['oss-endpoint'] as string | undefined);
  const region = c.aws ? c.aws.region : `oss-${c.ecs!.region}`;
  return cliSinks({ 'state-dir': values['state-dir'] }, { region, ...(endpoint !== undefined && { endpoint, pathStyle: true }) });
}
