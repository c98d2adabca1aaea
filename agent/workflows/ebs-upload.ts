import type { EbsUploadRequest, EbsUploadResult } from '../ebs/ebs-upload.js';
import type { ImportOptions } from '../cloud/upload-import/import-options.js';
import type { ImportStepResult } from '../cloud/tasks/import-step.js';
import type { PollPolicy } from '../cloud/poll-task.js';
import type { CloudTaskStatus } from '../cloud/task-events.js';
import type { StepJournal } from './ports.js';
import { STEP } from './steps.js';
import type { TaskSlots } from '../cloud/tasks/task-slots.js';

/** `vmxfer upload SRC ebs://...` and an upload job to ebs://: the snapshot, then the optional ImportImage of it. */
export interface EbsWorkflowRequest {
  upload: Omit<EbsUploadRequest, 'poll' | 'signal' | 'onStatus' | 'onRetry' | 'beforeComplete'>;
  /** `aws-image` only: an AMI registered from the snapshot (agent/ebs/snapshot-image.ts). */
  import?: { options: ImportOptions; region: string; endpoint?: string | undefined } | undefined;
}

export interface EbsWorkflowPorts {
  journal: StepJournal;
  poll: PollPolicy;
  onStatus?: ((s: CloudTaskStatus) => void) | undefined;
  onRetry?: ((code: string, attempt: number) => void) | undefined;
  /** The import is about to start. */
  onImporting?: (() => void) | undefined;
  signal: AbortSignal;
  /** Where the import task takes its slot (fleet.cloud_tasks); absent: this process's. */
  slots?: TaskSlots | undefined;
  /** WorkflowPorts.fence: before the snapshot is started, right before CompleteSnapshot and before the import. */
  fence?: (() => Promise<void>) | undefined;
}

export interface EbsWorkflowResult {
  snapshot: EbsUploadResult;
  imported?: ImportStepResult | undefined;
}

/**
 * Each step once through the journal: a restart after CompleteSnapshot does not write the snapshot
 * again; one during the upload continues it from the EBS checkpoint (confirmed blocks kept).
 */
export async function ebsUploadWorkflow(req: EbsWorkflowRequest, ports: EbsWorkflowPorts): Promise<EbsWorkflowResult> {
  // The SDKs load only when an EBS upload runs.
  const { uploadToEbs } = await import('../ebs/ebs-upload.js');
  const snapshot = await ports.journal.once(STEP.ebsSnapshot, async () => {
    await ports.fence?.();
    return uploadToEbs({ ...req.upload, poll: ports.poll, onStatus: ports.onStatus, onRetry: ports.onRetry, beforeComplete: ports.fence, signal: ports.signal });
  });
  const imp = req.import;
  if (!imp) return { snapshot };
  const { importSnapshotImage } = await import('../ebs/snapshot-image.js');
  const imported = await ports.journal.once(STEP.imported, async () => {
    await ports.fence?.();
    ports.onImporting?.();
    return importSnapshotImage(snapshot.snapshotId, imp.options, { region: imp.region, endpoint: imp.endpoint, retry: req.upload.connection.retry }, ports.poll, { onStatus: ports.onStatus, onRetry: ports.onRetry }, ports.signal, ports.slots);
  });
  return { snapshot, imported };
}
