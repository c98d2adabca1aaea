import { stat } from 'node:fs/promises';
import { parseSize } from '../core/units.js';
import { parseObjectUrl } from '../sinks/object-url.js';
import { writerByTarget } from '../formats/registry.js';
import { API_FORMATS, type JobKind, type JobOptions, type JobRequest } from '../jobs/job-types.js';
import { parseSyncBody } from './sync-body.js';
import { isEbsUrl, parseEbsUrl } from '../ebs/ebs-url.js';
import { checkSnapshotImage } from '../ebs/snapshot-image.js';
import { bad, obj, str, stringMap } from './body-fields.js';
import { API } from './error-codes.js';
import { fieldError } from '../core/field-error.js';
import { parseImportBody } from './import-body.js';
import { exportSource } from '../cloud/export-options.js';
import { parseExportBody } from './export-body.js';
import { confineExisting, confineFileUrl, confineNew } from '../roots/confine-path.js';
import { readChangedExtentList } from '../incremental/changed-blocks/extent-list.js';
import { INCR } from '../incremental/error-codes.js';
import { isVmxferError } from '../core/errors.js';
import { rootPaths, type SourceRoot } from '../config/source-roots.js';
import { parsePlacement, sourceAffinity, type SubmitAgent } from './job-placement.js';

/** Where jobs read (`source_roots`) and write (`output_roots`). */
export interface JobRoots {
  source: readonly SourceRoot[];
  output: readonly string[];
}

/** Where jobs read and write, as plain paths for confinement. */
interface RootPaths {
  source: readonly string[];
  output: readonly string[];
}

/** A submit request after validation (paths resolved and confined, sizes parsed): what the job service takes. */
export type JobSpec = JobRequest;

const OPTION_KEYS = ['disk', 'parent', 'partSize', 'concurrency', 'storageClass', 'encryption', 'tags', 'metadata', 'sha256', 'incremental', 'changedBlocks'];

/**
 * docs/api.md "Submit body". An upload reads a local path and writes an s3://, oss:// or file://
 * URL (file:// is a conversion: the same path with a file sink); a download reads an s3:// or
 * oss:// URL and writes a new local file, converted to `format` unless it is `original`. Paths read
 * must resolve inside the source roots, paths written inside the output roots.
 */
export async function parseSubmitBody(body: unknown, roots: JobRoots, here: SubmitAgent): Promise<JobSpec> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', 'must be a JSON object');
  const { priority, agent, ...job } = body as Record<string, unknown>;
  const placement = parsePlacement(priority, agent, here);
  const spec = await parseJob(job, { source: rootPaths(roots.source), output: roots.output });
  const affinity = placement.affinity ?? (await sourceAffinity(spec, roots.source, here));
  return { ...spec, ...(placement.priority !== undefined ? { priority: placement.priority } : {}), ...(affinity !== undefined ? { affinity } : {}) };
}

async function parseJob(b: Record<string, unknown>, roots: RootPaths): Promise<JobSpec> {
  if (b.kind !== undefined && b.kind !== 'export') throw bad('kind', 'must be "export" (uploads, conversions and downloads follow from source and destination)');
  if (b.kind === 'export') return parseExportJob(b, roots);
  for (const k of Object.keys(b)) if (!['source', 'destination', 'format', 'options', 'import', 'sync'].includes(k)) throw bad(k, 'is not a field of a job');
  const source = str(b.source, 'source');
  const destination = str(b.destination, 'destination');
  const download = /^(s3|oss):\/\//i.test(source);
  const format = parseFormat(b.format);
  const options = await parseOptions(b.options, roots.source);
  if (download) {
    if (options.changedBlocks !== undefined) throw bad('options.changedBlocks', 'applies to incremental uploads, sync jobs and ebs:// uploads with a parent snapshot');
    if (b.import !== undefined) throw bad('import', 'applies to uploads only (a download has nothing to import)');
    if (b.sync !== undefined) throw bad('sync', 'applies to uploads only (a sync job uploads incremental passes)');
    checkUrl(source, 'source', true);
    return { kind: 'download', source, destination: await confineNew(destination, roots.output, 'destination'), format, options };
  }
  if (isEbsUrl(destination)) return parseEbsJob(b, { source, destination, format, options }, roots);
  const kind = checkUrl(destination, 'destination', false);
  const cloudImport = b.import === undefined ? undefined : parseImportBody(b.import, destination);
  const confinedSource = await confineSource(source, roots.source, 'source');
  const confined = kind === 'convert' ? await confineFileUrl(destination, roots.output, 'destination') : destination;
  if (b.sync !== undefined) {
    if (kind !== 'upload') throw bad('sync', 'applies to uploads to s3:// or oss:// only (a sync job copies unchanged parts server-side)');
    return { kind: 'sync', source: confinedSource, destination, format, options: { ...options, incremental: true }, import: cloudImport, sync: parseSyncBody(b.sync) };
  }
  if (options.changedBlocks !== undefined && (kind !== 'upload' || options.incremental !== true)) {
    throw bad('options.changedBlocks', 'needs options.incremental: true and an s3:// or oss:// destination (or a sync job): the parts it leaves out are copied from the object at the destination');
  }
  return { kind, source: confinedSource, destination: confined, format, options, import: cloudImport };
}

/** Options an EBS snapshot has no use for (docs/api.md "EBS snapshot destinations"): parts, object metadata, digests. */
const NOT_EBS: ReadonlyArray<keyof JobOptions> = ['partSize', 'storageClass', 'encryption', 'metadata', 'sha256', 'incremental'];

/** An upload to `ebs://REGION[/snap-PARENT]`: the disk into a new EBS snapshot, then the optional aws-image import of it. */
async function parseEbsJob(b: Record<string, unknown>, spec: Pick<JobSpec, 'source' | 'destination' | 'format' | 'options'>, roots: RootPaths): Promise<JobSpec> {
  try {
    parseEbsUrl(spec.destination);
  } catch (err) {
    throw bad('destination', (err as Error).message);
  }
  if (b.sync !== undefined) throw bad('sync', 'applies to s3:// and oss:// destinations (an ebs:// upload names its parent snapshot instead)');
  if (spec.format !== 'original') throw bad('format', 'an EBS snapshot holds the disk\'s blocks: only original applies');
  const stray = NOT_EBS.find((k) => spec.options[k] !== undefined);
  if (stray) throw bad(`options.${stray}`, 'does not apply to an EBS snapshot destination');
  if (spec.options.changedBlocks !== undefined && !parseEbsUrl(spec.destination).parentSnapshotId) {
    throw bad('options.changedBlocks', 'needs a parent snapshot (ebs://REGION/snap-PARENT): the list names the blocks written since it');
  }
  const cloudImport = b.import === undefined ? undefined : parseImportBody(b.import, spec.destination);
  if (cloudImport) {
    try {
      checkSnapshotImage(cloudImport);
    } catch (err) {
      throw bad('import', (err as Error).message);
    }
  }
  return { kind: 'upload', ...spec, source: await confineSource(spec.source, roots.source, 'source'), import: cloudImport };
}

/** An export job: no source (the cloud image or instance is it), a new local destination, the `export` object. */
async function parseExportJob(b: Record<string, unknown>, roots: RootPaths): Promise<JobSpec> {
  for (const k of Object.keys(b)) if (!['kind', 'destination', 'export', 'format', 'options'].includes(k)) throw bad(k, 'is not a field of an export job');
  if (b.export === undefined) throw bad('export', 'is required for an export job');
  const exp = parseExportBody(b.export);
  const destination = await confineNew(str(b.destination, 'destination'), roots.output, 'destination');
  const options = await parseOptions(b.options, roots.source);
  return { kind: 'export', source: exportSource(exp), destination, format: parseFormat(b.format), options, export: exp };
}

/**
 * `format`: what the job writes. An upload converts to it before sending; a download or an export
 * job converts the object on the way (agent/transfer/download.ts `to`). `original` (the default)
 * keeps the bytes as they are; any other value needs a writer in this build.
 */
function parseFormat(raw: unknown): string {
  const format = raw === undefined ? 'original' : str(raw, 'format');
  if (!(API_FORMATS as readonly string[]).includes(format)) throw bad('format', `must be one of ${API_FORMATS.join(', ')}`);
  if (format !== 'original' && !writerByTarget(format)) throw bad('format', `this build has no ${format} writer`);
  return format;
}

/**
 * A disk image the job reads: confined to the source roots, and a regular file or a block device. A FIFO,
 * socket or character device would block the open (a FIFO waits for a writer) or never end; a directory is
 * no image.
 */
async function confineSource(path: string, roots: readonly string[], field: string): Promise<string> {
  const real = await confineExisting(path, roots, field);
  const st = await stat(real).catch(() => undefined);
  if (!st || !(st.isFile() || st.isBlockDevice())) {
    const what = !st ? 'cannot be read' : st.isDirectory() ? 'is a directory' : st.isFIFO() ? 'is a FIFO (named pipe)' : st.isSocket() ? 'is a socket' : st.isCharacterDevice() ? 'is a character device' : 'is not a regular file';
    throw fieldError(API.NOT_A_FILE, field, `"${path}" ${what}; a source must be a regular file or a block device`);
  }
  return real;
}

function checkUrl(url: string, field: string, remoteOnly: boolean): JobKind {
  let kind: string;
  let key: string;
  try {
    ({ kind, key } = parseObjectUrl(url));
  } catch (err) {
    throw bad(field, (err as Error).message);
  }
  if (!key) throw bad(field, `"${url}" names no object key`);
  if (remoteOnly && kind === 'file') throw bad(field, 'a download reads s3:// or oss:// objects');
  return kind === 'file' ? 'convert' : 'upload';
}

async function parseOptions(raw: unknown, roots: readonly string[]): Promise<JobOptions> {
  if (raw === undefined) return {};
  const o = obj(raw, 'options');
  for (const k of Object.keys(o)) if (!OPTION_KEYS.includes(k)) throw bad(`options.${k}`, 'is not a job option');
  const out: JobOptions = {};
  if (o.disk !== undefined) {
    // Only single-disk sources are read by this build: disk 1 (the first) is the only valid choice.
    if (o.disk !== 1) throw bad('options.disk', 'must be 1: this build converts single-disk images only');
    out.disk = 1;
  }
  if (o.parent !== undefined) out.parent = await confineSource(str(o.parent, 'options.parent'), roots, 'options.parent');
  if (o.partSize !== undefined) out.partSize = size(o.partSize, 'options.partSize');
  if (o.concurrency !== undefined) out.concurrency = int(o.concurrency, 'options.concurrency', 1, 64);
  if (o.storageClass !== undefined) out.storageClass = str(o.storageClass, 'options.storageClass');
  if (o.encryption !== undefined) out.encryption = encryption(o.encryption);
  if (o.tags !== undefined) out.tags = stringMap(o.tags, 'options.tags');
  if (o.metadata !== undefined) out.metadata = stringMap(o.metadata, 'options.metadata');
  if (o.sha256 !== undefined) {
    if (typeof o.sha256 !== 'boolean') throw bad('options.sha256', 'must be true or false');
    out.sha256 = o.sha256;
  }
  if (o.incremental !== undefined) {
    if (typeof o.incremental !== 'boolean') throw bad('options.incremental', 'must be true or false');
    out.incremental = o.incremental;
  }
  if (o.changedBlocks !== undefined) out.changedBlocks = await changeListFile(str(o.changedBlocks, 'options.changedBlocks'), roots);
  return out;
}

/**
 * `options.changedBlocks`: a change list (docs/warm-migration.md "Changed-block inputs") read by the
 * job, so confined to the source roots like any path it reads, and checked now so a bad list is
 * refused at submit; a job reads it again at each pass (a sync job's list is rewritten between passes).
 */
async function changeListFile(path: string, roots: readonly string[]): Promise<string> {
  const real = await confineSource(path, roots, 'options.changedBlocks');
  try {
    await readChangedExtentList(real);
  } catch (err) {
    if (isVmxferError(err) && err.code === INCR.CHANGED_BLOCKS.code) throw bad('options.changedBlocks', err.message);
    throw err;
  }
  return real;
}

function encryption(raw: unknown): JobOptions['encryption'] {
  const e = obj(raw, 'options.encryption');
  for (const k of Object.keys(e)) if (k !== 'algorithm' && k !== 'kmsKeyId') throw bad(`options.encryption.${k}`, 'is not an encryption field');
  const algorithm = str(e.algorithm, 'options.encryption.algorithm');
  if (!['AES256', 'aws:kms', 'KMS'].includes(algorithm)) throw bad('options.encryption.algorithm', 'must be AES256, aws:kms (S3) or KMS (OSS)');
  return { algorithm, kmsKeyId: e.kmsKeyId === undefined ? undefined : str(e.kmsKeyId, 'options.encryption.kmsKeyId') };
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(field, `must be an integer from ${min} to ${max}`);
  return v;
}

function size(v: unknown, field: string): number {
  let n: number;
  try {
    n = typeof v === 'number' ? v : parseSize(str(v, field), field);
  } catch {
    throw bad(field, 'must be a size such as 16MiB or a number of bytes');
  }
  // S3 and OSS: parts from 100 KB (OSS) / 5 MiB (S3) to 5 GiB; the store's own rule is checked when the job runs.
  if (!Number.isInteger(n) || n < 100 * 1024 || n > 5 * 1024 ** 3) throw bad(field, 'must be from 100KiB to 5GiB');
  return n;
}
