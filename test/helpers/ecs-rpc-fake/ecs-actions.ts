import { ecsId, RpcError, type EcsImage, type EcsWorld } from './ecs-world.js';

type Params = Record<string, string>;
type Handler = (w: EcsWorld, p: Params) => Record<string, unknown>;

function indexed(p: Params, prefix: string, suffix = ''): string[] {
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}(\\d+)${suffix.replace(/\./g, '\\.')}$`);
  return Object.keys(p).filter((k) => re.test(k)).sort((a, b) => Number(re.exec(a)![1]) - Number(re.exec(b)![1])).map((k) => p[k]!);
}

/** ECS ImportImage "DryRun": the request is checked first, then answered DryRunOperation when it would pass. */
export function passDryRun(p: Params): void {
  if (p.DryRun === 'true') throw new RpcError(400, 'DryRunOperation', 'Request validation has been passed with DryRun flag set.');
}

function idempotent(w: EcsWorld, p: Params, make: () => string): string {
  const t = p.ClientToken;
  if (t && w.tokens.has(t)) return w.tokens.get(t)!;
  const id = make();
  if (t) w.tokens.set(t, id);
  return id;
}

function image(w: EcsWorld, id: string | undefined): EcsImage {
  const img = id ? w.images.get(id) : undefined;
  if (!img) throw new RpcError(404, 'InvalidImageId.NotFound', 'The specified ImageId does not exist.');
  return img;
}

/** ImageName rules as the ImportImage reference documents them (InvalidImageName.Malformed). */
function checkName(name: string | undefined): void {
  if (!name || name.length < 2 || name.length > 128 || !/^[A-Za-z\u4e00-\u9fff]/.test(name) || /^(aliyun|acs:)/i.test(name) || /https?:\/\//.test(name)) {
    throw new RpcError(400, 'InvalidImageName.Malformed', 'The specified Image name is wrongly formed.');
  }
}

const importImage: Handler = (w, p) => {
  checkName(p.ImageName);
  const role = p.RoleName ?? 'AliyunECSImageImportDefaultRole';
  if (!w.roles.has(role)) throw new RpcError(403, 'NoSetRoletoECSServiceAcount', 'The specified service account has no role to access OSS.');
  const disks = indexed(p, 'DiskDeviceMapping.', '.OSSObject');
  if (!disks.length) throw new RpcError(400, 'MissingParameter', 'The input parameter "DiskDeviceMapping" that is mandatory for processing this request is not supplied.');
  passDryRun(p);
  const key = idempotent(w, p, () => {
    const imageId = ecsId('m');
    w.images.set(imageId, { id: imageId, region: p.RegionId!, name: p.ImageName!, script: w.scripts.image, step: 0, disks: disks.map((_, i) => ({ type: i ? 'data' : 'system', size: 20, encrypted: false })) });
    const taskId = ecsId('t');
    w.tasks.set(taskId, { id: taskId, action: 'ImportImage', region: p.RegionId!, script: w.scripts.importTask, step: 0, cancelled: false, imageId });
    w.started('ImportImage', p.RegionId!, taskId);
    return taskId;
  });
  const t = w.tasks.get(key)!;
  return { TaskId: t.id, ImageId: t.imageId, RegionId: t.region };
};

const describeTasks: Handler = (w, p) => {
  const ids = (p.TaskIds ?? '').split(',').filter(Boolean);
  const tasks = ids.flatMap((id) => {
    const t = w.tasks.get(id);
    if (!t) return [];
    return [{ TaskId: t.id, TaskAction: t.action, TaskStatus: w.advanceTask(t), SupportCancel: 'true', CreationTime: '2026-11-23T08:00Z', ResourceId: t.imageId }];
  });
  return { RegionId: p.RegionId, TotalCount: tasks.length, PageNumber: 1, PageSize: 10, TaskSet: { Task: tasks } };
};

/**
 * DescribeTaskAttribute (ImportImage, ExportImage, ModifyDiskSpec tasks): OperationProgressSet holds one
 * OperationProgress per subtask with OperationStatus, ErrorCode, ErrorMsg and RelatedItemSet (an
 * export's OSSObject names), as the API reference documents.
 */
const describeTaskAttribute: Handler = (w, p) => {
  const t = p.TaskId ? w.tasks.get(p.TaskId) : undefined;
  if (!t || t.region !== p.RegionId) throw new RpcError(404, 'InvalidTaskId.NotFound', 'The specified taskId does not exist.');
  const status = t.cancelled ? 'Cancelled' : t.script[Math.max(0, Math.min(t.step, t.script.length) - 1)]!;
  const finished = status === 'Finished';
  const ops = t.failure
    ? [{ OperationStatus: 'Failed', ErrorCode: t.failure.code, ErrorMsg: t.failure.message, RelatedItemSet: { RelatedItem: [] } }]
    : finished ? (t.outputs ?? [t.imageId]).map((o) => ({ OperationStatus: 'Success', ErrorCode: '', ErrorMsg: '', RelatedItemSet: { RelatedItem: t.outputs ? [{ Name: 'OSSObject', Value: o.slice(o.indexOf('/') + 1) }] : [{ Name: 'ImageId', Value: o }] } })) : [];
  return {
    TaskId: t.id, TaskAction: t.action, TaskStatus: status, TaskProcess: finished ? '100%' : '50%', RegionId: t.region, SupportCancel: 'true',
    TotalCount: ops.length, SuccessCount: ops.filter((o) => o.OperationStatus === 'Success').length, FailedCount: ops.filter((o) => o.OperationStatus === 'Failed').length,
    CreationTime: '2026-11-23T08:00Z', FinishedTime: '2026-11-23T08:10Z', OperationProgressSet: { OperationProgress: ops },
  };
};

const cancelTask: Handler = (w, p) => {
  const t = p.TaskId ? w.tasks.get(p.TaskId) : undefined;
  // A task lives in the region it was created in: CancelTask with another RegionId does not find it.
  if (!t || t.region !== p.RegionId) throw new RpcError(404, 'InvalidTaskId.NotFound', 'The specified taskId does not exist.');
  t.cancelled = true;
  return {};
};

const describeImages: Handler = (w, p) => {
  const img = p.ImageId ? w.images.get(p.ImageId) : undefined;
  const list = img && img.region === p.RegionId ? [img] : [];
  return {
    RegionId: p.RegionId,
    TotalCount: list.length,
    PageNumber: 1,
    PageSize: 10,
    Images: {
      Image: list.map((i) => {
        const s = w.advanceImage(i);
        return { ImageId: i.id, ImageName: i.name, Status: s.status, Progress: s.progress, DiskDeviceMappings: { DiskDeviceMapping: i.disks.map((d) => ({ Type: d.type, Size: String(d.size), Encrypted: String(d.encrypted) })) } };
      }),
    },
  };
};

const exportImage: Handler = (w, p) => {
  const img = image(w, p.ImageId);
  if (!w.roles.has(p.RoleName ?? 'AliyunECSImageExportDefaultRole')) throw new RpcError(403, 'NoSetRoletoECSServiceAcount', 'The specified service account has no role to write OSS.');
  if (p.OSSPrefix !== undefined && !/^[A-Za-z0-9]{1,30}$/.test(p.OSSPrefix)) throw new RpcError(400, 'InvalidOSSPrefix.Malformed', 'The specified OSSPrefix format is wrongly formed.');
  const fmt = (p.ImageFormat ?? 'RAW').toLowerCase();
  passDryRun(p);
  const taskId = ecsId('t');
  // One file per disk ("Export a custom image": names holding "system" are the system disk, names holding
  // "data" a data disk, identified by its mount point such as xvdb, xvdc).
  const ext = fmt === 'raw' ? 'raw.tar.gz' : fmt;
  let mount = 'a';
  const outputs = img.disks.map((d) => `${p.OSSBucket}/${p.OSSPrefix ?? ''}_${img.id}_${d.type === 'system' ? 'system' : `data_xvd${(mount = String.fromCharCode(mount.charCodeAt(0) + 1))}`}.${ext}`);
  w.tasks.set(taskId, { id: taskId, action: 'ExportImage', region: p.RegionId!, script: w.scripts.exportTask, step: 0, cancelled: false, imageId: img.id, outputs });
  w.started('ExportImage', p.RegionId!, taskId);
  return { TaskId: taskId, RegionId: p.RegionId };
};

/**
 * Actions whose handler answers DryRun itself once the request passed its checks (CopyImage and
 * ModifyImageSharePermission reference, DryRun: "If the request passes the dry run, the error code
 * DryRunOperation is returned").
 */
export const VALIDATES_DRY_RUN = new Set(['ImportImage', 'ExportImage', 'CopyImage', 'ModifyImageSharePermission']);

function imageIn(w: EcsWorld, id: string | undefined, region: string | undefined): EcsImage {
  const img = image(w, id);
  if (img.region !== region) throw new RpcError(404, 'InvalidImageId.NotFound', 'The specified ImageId does not exist.');
  return img;
}

const copyImage: Handler = (w, p) => {
  const src = imageIn(w, p.ImageId, p.RegionId);
  if (!p.DestinationRegionId) throw new RpcError(400, 'MissingParameter', 'The input parameter "DestinationRegionId" that is mandatory for processing this request is not supplied.');
  if (p.DestinationImageName !== undefined) checkName(p.DestinationImageName);
  if (p.KMSKeyId && p.Encrypted !== 'true') throw new RpcError(400, 'InvalidParameter.EncryptedIllegal', 'The specified parameter Encrypted must be true when kmsKeyId is not empty.');
  if (p.EncryptAlgorithm && p.Encrypted !== 'true') throw new RpcError(400, 'InvalidEncrypted.NotMatchEncryptAlgorithm', 'The specified parameter Encrypted must be true when EncryptAlgorithm is not empty.');
  passDryRun(p);
  const id = idempotent(w, p, () => {
    if (w.copyInProgress(src.id)) throw new RpcError(400, 'OperationDenied.ImageCopyConflict', 'The same image cannot be copied concurrently. Please wait until the last copy is completed before performing the next operation.');
    const encrypted = p.Encrypted === 'true';
    const copy: EcsImage = { id: ecsId('m'), region: p.DestinationRegionId!, name: p.DestinationImageName ?? src.name, script: w.scripts.copy, step: 0, disks: src.disks.map((d) => ({ ...d, encrypted: d.encrypted || encrypted })), copyOf: { image: src.id, region: p.RegionId! } };
    w.images.set(copy.id, copy);
    w.startCopy(copy);
    return copy.id;
  });
  return { ImageId: id };
};

/** CancelCopyImage (ECS API reference): RegionId is the copy's region; the copy is deleted, a finished copy cannot be cancelled. */
const cancelCopyImage: Handler = (w, p) => {
  const img = imageIn(w, p.ImageId, p.RegionId);
  if (!img.copyOf) throw new RpcError(400, 'ImageCreatedNotFromCopy', 'The specified image is not the target image of a copy action.');
  if (!w.copiesRunning.get(img.copyOf.region)?.has(img.id)) throw new RpcError(400, 'IncorrectImageStatus', 'The image copy has been completed.');
  w.copiesRunning.get(img.copyOf.region)!.delete(img.id);
  w.images.delete(img.id);
  w.cancelledCopies.add(img.id);
  return {};
};

const modifyImageSharePermission: Handler = (w, p) => {
  const img = imageIn(w, p.ImageId, p.RegionId);
  // The API reads AddAccount.1 to AddAccount.10 and ignores the rest (ModifyImageSharePermission reference).
  const add = indexed(p, 'AddAccount.').slice(0, 10);
  const unknown = add.find((a) => w.unknownAccounts.has(a));
  if (unknown) throw new RpcError(404, 'InvalidAccount.NotFound', `The specified account ${unknown} does not exist.`);
  const now = [...new Set([...(w.shares.get(img.id) ?? []), ...add])];
  if (now.length > 50) throw new RpcError(403, 'QuotaExceed.ShareImageUser', 'The number of shared users exceeds the limit.');
  passDryRun(p);
  w.shares.set(img.id, now);
  if (p.IsPublic === 'true') w.published.add(img.id);
  return {};
};

/** DescribeImageSharePermission (ECS API reference): the accounts an image is shared with, PageSize up to 100 (default 10). */
const describeImageSharePermission: Handler = (w, p) => {
  const img = imageIn(w, p.ImageId, p.RegionId);
  const size = Math.min(100, Number(p.PageSize ?? 10));
  const page = Number(p.PageNumber ?? 1);
  const all = w.shares.get(img.id) ?? [];
  const slice = all.slice((page - 1) * size, page * size);
  return { RegionId: p.RegionId, ImageId: img.id, TotalCount: all.length, PageNumber: page, PageSize: size, Accounts: { Account: slice.map((AliyunId) => ({ AliyunId })) }, ShareGroups: { ShareGroup: [] } };
};

export const ECS_ACTIONS: Record<string, Handler> = {
  ImportImage: importImage,
  DescribeTasks: describeTasks,
  DescribeTaskAttribute: describeTaskAttribute,
  CancelTask: cancelTask,
  DescribeImages: describeImages,
  ExportImage: exportImage,
  CopyImage: copyImage,
  ModifyImageSharePermission: modifyImageSharePermission,
  CancelCopyImage: cancelCopyImage,
  DescribeImageSharePermission: describeImageSharePermission,
};

/** RAM GetRole (RAM API, 2015-05-01): EntityNotExist.Role when missing. */
export const RAM_ACTIONS: Record<string, Handler> = {
  GetRole: (w, p) => {
    const doc = p.RoleName ? w.roles.get(p.RoleName) : undefined;
    if (doc === undefined) throw new RpcError(404, 'EntityNotExist.Role', `The role does not exist: ${p.RoleName}.`);
    return { Role: { RoleId: '3014545965327780', RoleName: p.RoleName, Arn: `acs:ram::123456789012:role/${p.RoleName}`, AssumeRolePolicyDocument: doc, CreateDate: '2026-01-01T00:00:00Z' } };
  },
};
