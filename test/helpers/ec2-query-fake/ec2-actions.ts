import { advance, hexId, type FakeTask, type TaskStep } from './fake-state.js';
import type { XmlValue } from './xml.js';

/** A documented EC2 error (EC2 API reference, "Error codes"): HTTP status, Code, Message. */
export class Ec2Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface Ec2World {
  tasks: Map<string, FakeTask>;
  scripts: { importImage: TaskStep[]; importSnapshot: TaskStep[]; export: TaskStep[]; copy: TaskStep[] };
  roles: Map<string, string>;
  /** bucket/key → bytes; an export writes `exportBytes` here when it completes. */
  objects: Map<string, Buffer>;
  exportBytes: Buffer;
  /** When set, a completed export writes its object here (a real S3 store) instead of `objects`. */
  exportStore?: ((bucket: string, key: string, body: Buffer) => Promise<void>) | undefined;
  /** exportStore writes in flight: the server answers the Describe call once they are done. */
  landing: Array<Promise<void>>;
  /** ClientToken → task/image id (EC2 idempotency: the same token returns the same result). */
  tokens: Map<string, string>;
  /** ClientToken → the parameters of its first request. */
  tokenRequests: Map<string, string>;
  launchPermissions: Map<string, string[]>;
  /** AMIs that exist: imported (registered when the import completes), copied, or seeded by a test. */
  images: Map<string, FakeAmi>;
  /** EBS snapshots that exist: made by ImportSnapshot tasks when they complete. */
  snapshots: Set<string>;
  /** A snapshot the EBS direct APIs fake made: its DescribeSnapshots fields. */
  describeSnapshot?: ((id: string) => { state: string; message: string; progress: string; volumeSize: number; encrypted: boolean } | undefined) | undefined;
  /** Buckets that exist (ExportImage: "The destination bucket must exist"). */
  buckets: ReadonlyMap<string, unknown>;
}

export interface FakeAmi {
  region: string;
  encrypted: boolean;
}

/**
 * Actions whose handler answers DryRun itself, after validating the request as EC2 does ("Checks
 * whether you have the required permissions for the action ... the error response is DryRunOperation").
 */
export const VALIDATES_DRY_RUN = new Set(['ImportImage', 'ImportSnapshot', 'ExportImage', 'CopyImage', 'ModifyImageAttribute', 'DeregisterImage']);

function ami(w: Ec2World, id: string | undefined, region: string): FakeAmi {
  const img = id ? w.images.get(id) : undefined;
  if (!img || img.region !== region) throw new Ec2Error(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
  return img;
}

/**
 * EC2 "DryRun" common parameter: the request is checked as the real call would be, and only then
 * answered DryRunOperation (HTTP 412) instead of being carried out.
 */
export function passDryRun(p: Params): void {
  if (p.DryRun === 'true') throw new Ec2Error(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
}

/** The AMI the fake account owns from the start (the export tests' image). */
export const EXAMPLE_AMI = 'ami-0123456789abcdef0';

export type Params = Record<string, string>;
type Handler = (w: Ec2World, p: Params, region: string) => Record<string, XmlValue>;

function list(p: Params, prefix: string): string[] {
  return Object.keys(p).filter((k) => k.startsWith(prefix)).sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length))).map((k) => p[k]!);
}

function requireRole(w: Ec2World, p: Params): void {
  const role = p.RoleName ?? 'vmimport';
  if (!w.roles.has(role)) throw new Ec2Error(400, 'InvalidParameter', `The service role ${role} provided does not exist or does not have sufficient permissions`);
}

function encryptionRules(p: Params): void {
  if (p.KmsKeyId && p.Encrypted !== 'true') throw new Ec2Error(400, 'InvalidParameterDependency', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');
}

/** The request a ClientToken was first used with: its parameters other than DryRun. */
function fingerprint(p: Params): string {
  return JSON.stringify(Object.keys(p).filter((k) => k !== 'DryRun').sort().map((k) => [k, p[k]]));
}

/**
 * EC2 idempotency ("Ensuring idempotency"): a token seen before returns the first result; the same
 * token with other parameters is IdempotentParameterMismatch.
 */
function idempotent(w: Ec2World, p: Params, make: () => string): string {
  const token = p.ClientToken;
  if (token && w.tokens.has(token)) {
    if (w.tokenRequests.get(token) !== fingerprint(p)) throw new Ec2Error(400, 'IdempotentParameterMismatch', `The client token ${token} was used with different parameters.`);
    return w.tokens.get(token)!;
  }
  const id = make();
  if (token) {
    w.tokens.set(token, id);
    w.tokenRequests.set(token, fingerprint(p));
  }
  return id;
}

function task(w: Ec2World, id: string | undefined, code: string): FakeTask {
  const t = id ? w.tasks.get(id) : undefined;
  if (!t) throw new Ec2Error(400, code, `The task ID '${id}' does not exist`);
  return t;
}

function newTask(w: Ec2World, kind: FakeTask['kind'], idPrefix: string, resultPrefix: string, script: TaskStep[], p: Params): FakeTask {
  const t: FakeTask = { id: hexId(idPrefix), kind, script, step: 0, params: p, resultId: hexId(resultPrefix), startedAt: Date.now() };
  w.tasks.set(t.id, t);
  return t;
}

/** Writes the export object when the task reports completed (the bytes appear in the bucket at that moment). */
function landExport(w: Ec2World, t: FakeTask, step: TaskStep): void {
  if (step.status !== 'completed' || !t.output || t.landed) return;
  t.landed = true;
  if (w.exportStore) w.landing.push(w.exportStore(t.output.bucket, t.output.key, w.exportBytes));
  else w.objects.set(`${t.output.bucket}/${t.output.key}`, w.exportBytes);
}

/**
 * ImageDiskContainer.SnapshotId: "The ID of the EBS snapshot to be used" (a snapshot that does not exist is
 * InvalidSnapshot.NotFound, EC2 "Error codes"); ImportImage Platform: "If you import a VM that is compatible
 * with UEFI using an EBS snapshot, you must specify a value for the platform".
 */
function snapshotContainerRules(w: Ec2World, p: Params): void {
  const ids = Object.keys(p).filter((k) => /^DiskContainer\.\d+\.SnapshotId$/.test(k)).map((k) => p[k]!);
  const missing = ids.find((id) => !w.snapshots.has(id));
  if (missing) throw new Ec2Error(400, 'InvalidSnapshot.NotFound', `The snapshot '${missing}' does not exist.`);
  if (ids.length > 0 && p.BootMode === 'uefi' && !p.Platform) throw new Ec2Error(400, 'MissingParameter', 'The request must contain the parameter Platform');
}

const importImage: Handler = (w, p) => {
  requireRole(w, p);
  encryptionRules(p);
  if (p.LicenseType && p.UsageOperation) throw new Ec2Error(400, 'InvalidParameterCombination', 'LicenseType and UsageOperation cannot both be specified.');
  if (list(p, 'DiskContainer.').length === 0) throw new Ec2Error(400, 'MissingParameter', 'The request must contain the parameter DiskContainer');
  snapshotContainerRules(w, p);
  passDryRun(p);
  const id = idempotent(w, p, () => newTask(w, 'import-image', 'import-ami', 'ami', w.scripts.importImage, p).id);
  return { importTaskId: id, status: 'active', statusMessage: 'pending', progress: '1' };
};

const describeImportImageTasks: Handler = (w, p, region) => ({
  importImageTaskSet: list(p, 'ImportTaskId.').map((id) => {
    const t = task(w, id, 'InvalidConversionTaskId');
    const s = advance(t);
    if (s.status === 'completed' && !w.images.has(t.resultId)) w.images.set(t.resultId, { region, encrypted: t.params.Encrypted === 'true' });
    const disks = list(t.params, 'DiskContainer.').length ? Object.keys(t.params).filter((k) => /^DiskContainer\.\d+\.Format$/.test(k)) : [];
    return {
      importTaskId: t.id,
      status: s.status,
      statusMessage: s.message,
      progress: s.progress,
      imageId: s.status === 'completed' ? t.resultId : undefined,
      snapshotDetailSet: disks.map((k) => ({ format: t.params[k]!, status: s.status })),
    };
  }),
});

/** ImportSnapshot's request parameters (EC2 API reference); any other is UnknownParameter (EC2 "Error codes"). */
const IMPORT_SNAPSHOT_PARAMS = /^(Action|Version|DryRun|ClientToken|Description|Encrypted|KmsKeyId|RoleName|ClientData\..+|DiskContainer\..+|TagSpecification\..+)$/;

const importSnapshot: Handler = (w, p) => {
  const unknown = Object.keys(p).find((k) => !IMPORT_SNAPSHOT_PARAMS.test(k));
  if (unknown) throw new Ec2Error(400, 'UnknownParameter', `The parameter ${unknown} is not recognized`);
  requireRole(w, p);
  encryptionRules(p);
  if (!p['DiskContainer.Format']) throw new Ec2Error(400, 'MissingParameter', 'The request must contain the parameter DiskContainer.Format');
  passDryRun(p);
  const id = idempotent(w, p, () => newTask(w, 'import-snapshot', 'import-snap', 'snap', w.scripts.importSnapshot, p).id);
  return { importTaskId: id, snapshotTaskDetail: { status: 'active', statusMessage: 'pending', format: p['DiskContainer.Format'] } };
};

const describeImportSnapshotTasks: Handler = (w, p) => ({
  importSnapshotTaskSet: list(p, 'ImportTaskId.').map((id) => {
    const t = task(w, id, 'InvalidConversionTaskId');
    const s = advance(t);
    if (s.status === 'completed') w.snapshots.add(t.resultId);
    return { importTaskId: t.id, snapshotTaskDetail: { status: s.status, statusMessage: s.message, progress: s.progress, snapshotId: s.status === 'completed' ? t.resultId : undefined } };
  }),
});

const cancelImportTask: Handler = (w, p) => {
  const t = task(w, p.ImportTaskId, 'InvalidConversionTaskId');
  t.cancelled = p.CancelReason ?? 'Canceled by user';
  return { importTaskId: t.id, previousState: 'active', state: 'deleting' };
};

/** EC2 "Resource IDs" and the documented InvalidAMIID.Malformed / InvalidAMIID.NotFound codes. */
function requireImage(w: Ec2World, id: string | undefined): void {
  if (!id || !/^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) throw new Ec2Error(400, 'InvalidAMIID.Malformed', `Invalid id: "${id}"`);
  if (!w.images.has(id)) throw new Ec2Error(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
}

const exportImage: Handler = (w, p) => {
  requireRole(w, p);
  const fmt = p.DiskImageFormat?.toLowerCase();
  if (!fmt || !['vmdk', 'vhd', 'raw'].includes(fmt)) throw new Ec2Error(400, 'InvalidParameterValue', `Value (${p.DiskImageFormat}) for parameter DiskImageFormat is invalid.`);
  requireImage(w, p.ImageId);
  const bucket = p['S3ExportLocation.S3Bucket']!;
  if (!w.buckets.has(bucket)) throw new Ec2Error(400, 'InvalidParameter', `The destination bucket ${bucket} does not exist.`);
  passDryRun(p);
  const prefix = p['S3ExportLocation.S3Prefix'] ?? '';
  // ExportImage ClientToken: a request repeated with the token returns the task it started.
  const t = w.tasks.get(idempotent(w, p, () => newTask(w, 'export-image', 'export-ami', 'ami', w.scripts.export, p).id))!;
  t.output = { bucket, key: `${prefix}${t.id}.${fmt}` };
  return { exportImageTaskId: t.id, imageId: p.ImageId, diskImageFormat: p.DiskImageFormat, status: 'active', s3ExportLocation: { s3Bucket: bucket, s3Prefix: prefix } };
};

const describeExportImageTasks: Handler = (w, p) => ({
  exportImageTaskSet: list(p, 'ExportImageTaskId.').map((id) => {
    const t = task(w, id, 'InvalidExportImageTaskId.NotFound');
    const s = advance(t);
    landExport(w, t, s);
    return { exportImageTaskId: t.id, imageId: t.params.ImageId, status: s.status, statusMessage: s.message, progress: s.progress, s3ExportLocation: { s3Bucket: t.output!.bucket, s3Prefix: t.params['S3ExportLocation.S3Prefix'] } };
  }),
});

function s3TaskParam(p: Params, field: string): string | undefined {
  return p[`ExportToS3.${field}`] ?? p[`ExportToS3Task.${field}`];
}

function exportTaskXml(t: FakeTask, s: TaskStep): XmlValue {
  return {
    exportTaskId: t.id,
    state: s.status,
    statusMessage: s.message,
    instanceExport: { instanceId: t.params.InstanceId, targetEnvironment: t.params.TargetEnvironment },
    exportToS3: { containerFormat: s3TaskParam(t.params, 'ContainerFormat'), diskImageFormat: s3TaskParam(t.params, 'DiskImageFormat'), s3Bucket: t.output!.bucket, s3Key: t.output!.key },
  };
}

const createInstanceExportTask: Handler = (w, p) => {
  if (!p.InstanceId || !p.TargetEnvironment) throw new Ec2Error(400, 'MissingParameter', 'InstanceId and TargetEnvironment are required');
  if (s3TaskParam(p, 'ContainerFormat') !== 'ova') throw new Ec2Error(400, 'InvalidParameterValue', 'ContainerFormat must be ova');
  const t = newTask(w, 'export-instance', 'export-i', 'i', w.scripts.export, p);
  t.output = { bucket: s3TaskParam(p, 'S3Bucket')!, key: `${s3TaskParam(p, 'S3Prefix') ?? ''}${t.id}.ova` };
  return { exportTask: exportTaskXml(t, { status: 'active' }) };
};

const describeExportTasks: Handler = (w, p) => ({
  exportTaskSet: list(p, 'ExportTaskId.').map((id) => {
    const t = task(w, id, 'InvalidExportTaskID.NotFound');
    const s = advance(t);
    const state = s.status === 'deleting' ? 'cancelling' : s.status === 'deleted' ? 'cancelled' : s.status;
    landExport(w, t, s);
    return exportTaskXml(t, { ...s, status: state });
  }),
});

const cancelExportTask: Handler = (w, p) => {
  const t = task(w, p.ExportTaskId, 'InvalidExportTaskID.NotFound');
  t.cancelled = 'Canceled by user';
  return { return: true };
};

/** CopyImage (EC2 API reference): called in the destination region; Name and a source AMI in SourceRegion are required. */
const copyImage: Handler = (w, p, region) => {
  encryptionRules(p);
  if (!p.Name) throw new Ec2Error(400, 'MissingParameter', 'The request must contain the parameter Name');
  if (p.SourceRegion === region) throw new Ec2Error(400, 'InvalidParameterValue', 'SourceRegion must differ from the destination region');
  const src = ami(w, p.SourceImageId, p.SourceRegion ?? '');
  passDryRun(p);
  const id = idempotent(w, p, () => {
    const t = newTask(w, 'copy-image', 'copy', 'ami', w.scripts.copy, { ...p, region });
    w.tasks.set(t.resultId, t);
    w.images.set(t.resultId, { region, encrypted: src.encrypted || p.Encrypted === 'true' });
    return t.resultId;
  });
  return { imageId: id };
};

/** A copy reports its task's state; any other AMI is available. Deregistered AMIs are gone. */
const describeImages: Handler = (w, p, region) => ({
  imagesSet: list(p, 'ImageId.').flatMap((id) => {
    const img = w.images.get(id);
    if (!img || img.region !== region) return [];
    const t = w.tasks.get(id);
    return [{ imageId: id, imageState: t ? advance(t).status : 'available', name: t?.params.Name }];
  }),
});

/** DeregisterImage: "To stop a pending copy operation, deregister the destination AMI" (AMI User Guide, "Stop a pending AMI copy"). */
const deregisterImage: Handler = (w, p, region) => {
  ami(w, p.ImageId, region);
  passDryRun(p);
  w.images.delete(p.ImageId!);
  w.tasks.delete(p.ImageId!);
  return { return: true };
};

const modifyImageAttribute: Handler = (w, p, region) => {
  ami(w, p.ImageId, region);
  const accounts = Object.keys(p).filter((k) => /^LaunchPermission\.Add\.\d+\.UserId$/.test(k)).map((k) => p[k]!);
  const bad = accounts.find((a) => !/^\d{12}$/.test(a));
  if (bad) throw new Ec2Error(400, 'InvalidUserID.Malformed', `Invalid user id: "${bad}"`);
  passDryRun(p);
  w.launchPermissions.set(p.ImageId!, [...(w.launchPermissions.get(p.ImageId!) ?? []), ...accounts]);
  return { return: true };
};

/** DescribeSnapshots with SnapshotId.N (EC2 API reference): an id it does not know is InvalidSnapshot.NotFound. */
const describeSnapshots: Handler = (w, p) => ({
  snapshotSet: list(p, 'SnapshotId.').map((id) => {
    const s = w.describeSnapshot?.(id);
    if (!s) throw new Ec2Error(400, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
    return { snapshotId: id, status: s.state, stateMessage: s.message, progress: s.progress, volumeSize: String(s.volumeSize), encrypted: String(s.encrypted), ownerId: '123456789012' };
  }),
});

export const EC2_ACTIONS: Record<string, Handler> = {
  DescribeSnapshots: describeSnapshots,
  ImportImage: importImage,
  DescribeImportImageTasks: describeImportImageTasks,
  ImportSnapshot: importSnapshot,
  DescribeImportSnapshotTasks: describeImportSnapshotTasks,
  CancelImportTask: cancelImportTask,
  ExportImage: exportImage,
  DescribeExportImageTasks: describeExportImageTasks,
  CreateInstanceExportTask: createInstanceExportTask,
  DescribeExportTasks: describeExportTasks,
  CancelExportTask: cancelExportTask,
  CopyImage: copyImage,
  DescribeImages: describeImages,
  ModifyImageAttribute: modifyImageAttribute,
  DeregisterImage: deregisterImage,
};
