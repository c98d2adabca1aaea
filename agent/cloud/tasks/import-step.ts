import { randomUUID } from 'node:crypto';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { awsClients, type AwsClients, type AwsConnection } from '../aws/aws-clients.js';
import { cancelAwsImport, describeAwsImport, dryRunAwsImport, startAwsImport, startSnapshotImage, type AwsImportParams } from '../aws/aws-import.js';
import { ecsClients, type EcsClients, type EcsConnection } from '../ecs/ecs-clients.js';
import { dryRunEcsImport, startEcsImport, type EcsImportParams } from '../ecs/ecs-import.js';
import { cancelEcsTask, describeEcsImageState, describeEcsTask } from '../ecs/ecs-tasks.js';
import { withOnRetry } from '../cloud-retry.js';
import { DEFAULT_POLL, type PollPolicy } from '../poll-task.js';
import type { CloudTaskCallbacks, CloudTaskStatus } from '../task-events.js';
import { formatFinding, hasErrors } from '../preflight/finding.js';
import { awsParameterRules, ecsParameterRules } from '../preflight/parameter-rules.js';
import { followTask } from './follow-task.js';
import { startedTask } from './started-task.js';
import { snapshotsMakeImage } from '../distribute/distributed-image.js';
import { defaultTaskSlots, taskSlot, withTaskSlot, type TaskSlotKind, type TaskSlots } from './task-slots.js';

/** EC2 ImportImage and ImportSnapshot count against one VM Import/Export quota of the region. */
export const AWS_IMPORT: TaskSlotKind = { cloud: 'aws', task: 'import', cap: 'ec2_import_per_region' };
export const ECS_IMPORT: TaskSlotKind = { cloud: 'ecs', task: 'import', cap: 'ecs_import_per_region' };

/** A task the cloud already runs: a job restarted mid-import follows it instead of starting another. */
export interface StartedImport {
  taskId: string;
  /** ECS ImportImage names the image at once; the task is followed, then the image. */
  imageId?: string | undefined;
  /**
   * aws-snapshot of a multi-disk VM: which disk's task this is (0-based; one task per disk); the number
   * of disks for the ImportImage that registers the snapshots as an AMI.
   */
  disk?: number | undefined;
}

interface CommonStepParams {
  poll?: PollPolicy | undefined;
  dryRunFirst?: boolean | undefined;
  /** Follow this task rather than calling ImportImage again. */
  resume?: StartedImport | undefined;
  /**
   * Whether an abort with this reason cancels the cloud task (default: always). A daemon stopping
   * for a restart keeps the task running so the next start follows it.
   */
  cancelOnAbort?: ((reason: unknown) => boolean) | undefined;
  /** Where each import task takes its slot (default: this process's, with the default caps). */
  slots?: TaskSlots | undefined;
}

export type ImportStepParams =
  | ({ cloud: 'aws'; connection: AwsConnection; import: AwsImportParams } & CommonStepParams)
  | ({ cloud: 'ecs'; connection: EcsConnection; import: EcsImportParams } & CommonStepParams);

export interface ImportStepCallbacks extends CloudTaskCallbacks {
  /** Awaited once the cloud names the task, before the first poll: the caller records it to resume. */
  onStarted?: ((started: StartedImport) => Promise<void> | void) | undefined;
}

export interface ImportStepResult {
  target: string;
  taskIds: string[];
  /** AMI id, snapshot ids, or the ECS image id. */
  resourceIds: string[];
  final: CloudTaskStatus[];
  /** aws-snapshot with a boot mode or platform: the AMI ImportImage made of the snapshots, and its task. */
  imageId?: string | undefined;
  imageTaskId?: string | undefined;
}

/**
 * The import step a job runs after its upload: the parameter rules (the same the preflight ran) once
 * more, an optional DryRun, the import call, then the task followed to its end with every state
 * reported through `callbacks.onStatus`; aborting `signal` cancels the task on the cloud.
 */
export async function runImportStep(params: ImportStepParams, callbacks: ImportStepCallbacks = {}, signal?: AbortSignal): Promise<ImportStepResult> {
  const findings = params.cloud === 'aws' ? awsParameterRules(params.import) : ecsParameterRules(params.import);
  if (hasErrors(findings)) {
    throw vmxError(CLOUD.PREFLIGHT_FAILED, `the import parameters would be refused:\n${findings.filter((f) => f.severity === 'error').map(formatFinding).join('\n')}`);
  }
  return params.cloud === 'aws' ? awsImport(params, callbacks, signal) : ecsImport(params, callbacks, signal);
}

async function awsImport(params: Extract<ImportStepParams, { cloud: 'aws' }>, callbacks: ImportStepCallbacks, signal?: AbortSignal): Promise<ImportStepResult> {
  const clients = awsClients({ ...params.connection, retry: withOnRetry(params.connection.retry, callbacks) });
  const p = params.import;
  // ImportSnapshot takes one disk: a multi-disk source becomes one snapshot task per disk.
  const jobs = p.target === 'aws-snapshot' ? p.disks.map((d) => ({ ...p, disks: [d] })) : [p];
  const result: ImportStepResult = { target: p.target, taskIds: [], resourceIds: [], final: [] };
  const resumeDisk = params.resume ? (params.resume.disk ?? 0) : -1;
  for (const [i, one] of jobs.entries()) {
    const job = { ...one, clientToken: jobs.length > 1 && p.clientToken ? diskToken(p.clientToken, i) : (one.clientToken ?? randomUUID()) };
    // Disks before the one a restarted job records finished in an earlier run: their tokens return the
    // same tasks, which need no DryRun and are not recorded again.
    const fresh = i > resumeDisk;
    const dryRun = fresh && params.dryRunFirst ? () => dryRunAwsImport(clients, job, signal) : undefined;
    const record = fresh ? (taskId: string) => callbacks.onStarted?.(job.target === 'aws-snapshot' ? { taskId, disk: i } : { taskId }) : undefined;
    const { taskId, done } = await withImportSlot({ slotKind: AWS_IMPORT, kind: p.target, region: clients.region, params }, async () => {
      const taskId = await startedTask(i === resumeDisk ? params.resume!.taskId : undefined, () => startAwsImport(clients, job, signal), record, dryRun);
      return { taskId, done: await followAws(clients, params, p.target, taskId, callbacks, signal) };
    }, callbacks, signal);
    result.taskIds.push(taskId);
    result.resourceIds.push(done.resourceId);
    result.final.push(done.status);
  }
  if (p.target === 'aws-snapshot' && snapshotsMakeImage(p)) await registerSnapshots(clients, params, jobs.length === resumeDisk, result, callbacks, signal);
  return result;
}

/**
 * ImportImage with the snapshots as disk containers, in disk order (ImageDiskContainer.SnapshotId). It is
 * recorded as the task of disk N (the number of disks): a restarted job follows it, and its ClientToken
 * returns the same task if the record was lost before the call answered.
 */
async function registerSnapshots(clients: AwsClients, params: Extract<ImportStepParams, { cloud: 'aws' }>, resumed: boolean, result: ImportStepResult, callbacks: ImportStepCallbacks, signal?: AbortSignal): Promise<void> {
  const disks = result.resourceIds.length;
  const p = { ...params.import, clientToken: params.import.clientToken ? imageToken(params.import.clientToken) : randomUUID() };
  const start = () => startSnapshotImage(clients, p, result.resourceIds, params.dryRunFirst === true, signal);
  const { taskId, done } = await withImportSlot({ slotKind: AWS_IMPORT, kind: 'aws-image', region: clients.region, params }, async () => {
    const taskId = await startedTask(resumed ? params.resume!.taskId : undefined, start, (id) => callbacks.onStarted?.({ taskId: id, disk: disks }));
    return { taskId, done: await followAws(clients, params, 'aws-image', taskId, callbacks, signal) };
  }, callbacks, signal);
  result.imageTaskId = taskId;
  result.imageId = done.resourceId;
  result.final.push(done.status);
}

/** An import task from its start to its end holding a slot of its region; while it waits, its status says Queued. */
function withImportSlot<T>(
  task: { slotKind: TaskSlotKind; kind: CloudTaskStatus['kind']; region: string; params: CommonStepParams },
  fn: () => Promise<T>,
  callbacks: ImportStepCallbacks,
  signal?: AbortSignal,
): Promise<T> {
  const slots = task.params.slots ?? defaultTaskSlots();
  // No task id exists before the start.
  const queued = (message: string) => callbacks.onStatus?.({ kind: task.kind, id: '', state: 'Queued', message });
  return withTaskSlot(slots, taskSlot(task.slotKind, task.region, slots.caps), fn, queued, signal);
}

/** The task followed to its end (cancelled on abort); its AMI or snapshot id. */
async function followAws(clients: AwsClients, params: CommonStepParams, target: AwsImportParams['target'], taskId: string, callbacks: ImportStepCallbacks, signal?: AbortSignal): Promise<{ resourceId: string; status: CloudTaskStatus }> {
  const done = await followTask({
    describe: () => describeAwsImport(clients, target, taskId, signal),
    cancel: () => cancelAwsImport(clients, taskId, 'vmxfer job cancelled'),
    cancelOnAbort: params.cancelOnAbort,
    cancelling: { kind: target, id: taskId },
    poll: params.poll ?? DEFAULT_POLL,
    callbacks,
    signal,
  });
  if (!done.raw.resourceId) throw vmxError(CLOUD.BAD_RESPONSE, `${taskId} completed without naming the ${target === 'aws-image' ? 'AMI' : 'snapshot'}`);
  return { resourceId: done.raw.resourceId, status: done.status };
}

/** The registration's own ClientToken, distinct from each disk's (same 64-character bound as diskToken). */
export function imageToken(token: string): string {
  return `${token.slice(0, 56)}-ami`;
}

/**
 * One ClientToken per snapshot task: EC2 answers IdempotentParameterMismatch when a token comes back
 * with other parameters (EC2 API reference, "Ensuring idempotency"); ClientToken is at most 64 ASCII characters.
 */
export function diskToken(token: string, disk: number): string {
  return `${token.slice(0, 56)}-disk${disk + 1}`;
}

async function startEcs(clients: EcsClients, params: Extract<ImportStepParams, { cloud: 'ecs' }>, callbacks: ImportStepCallbacks, signal?: AbortSignal): Promise<{ taskId: string; imageId: string }> {
  if (params.resume?.imageId) return { taskId: params.resume.taskId, imageId: params.resume.imageId };
  const p = { ...params.import, clientToken: params.import.clientToken ?? randomUUID() };
  if (params.dryRunFirst) await dryRunEcsImport(clients, p, signal);
  const started = await startEcsImport(clients, p, signal);
  await callbacks.onStarted?.(started);
  return started;
}

async function ecsImport(params: Extract<ImportStepParams, { cloud: 'ecs' }>, callbacks: ImportStepCallbacks, signal?: AbortSignal): Promise<ImportStepResult> {
  const clients = ecsClients({ ...params.connection, retry: withOnRetry(params.connection.retry, callbacks) });
  const poll = params.poll ?? DEFAULT_POLL;
  const { taskId, imageId, done } = await withImportSlot({ slotKind: ECS_IMPORT, kind: 'ecs-image', region: clients.region, params }, async () => {
    const { taskId, imageId } = await startEcs(clients, params, callbacks, signal);
    const done = await followTask({
      describe: () => describeEcsTask(clients, 'ecs-image', taskId, signal),
      cancel: () => cancelEcsTask(clients, taskId),
      cancelOnAbort: params.cancelOnAbort,
      cancelling: { kind: 'ecs-image', id: taskId },
      poll,
      callbacks,
      signal,
    });
    return { taskId, imageId, done };
  }, callbacks, signal);
  // The task is Finished once the disks are converted; the image itself reports Available (DescribeImages).
  const image = await followTask({
    describe: () => describeEcsImageState(clients, 'ecs-image', clients.region, imageId, signal),
    cancelling: { kind: 'ecs-image', id: imageId },
    poll,
    callbacks,
    signal,
  });
  return { target: 'ecs-image', taskIds: [taskId], resourceIds: [imageId], final: [done.status, image.status] };
}

