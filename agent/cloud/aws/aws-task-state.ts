import type { Verdict } from '../poll-task.js';

/**
 * Import task states (VM Import/Export User Guide, "Monitor an import image task"): active, updating,
 * validating, validated, converting are in progress; completed is done; deleting and deleted mean
 * the task was cancelled or failed (StatusMessage says which).
 */
export function importVerdict(status: string | undefined): Verdict {
  if (status === 'completed') return 'succeeded';
  if (status === 'deleting' || status === 'deleted') return 'failed';
  return 'running';
}

/** ExportImage (DescribeExportImageTasks Status) and instance export (ExportTask State). */
export function exportVerdict(status: string | undefined): Verdict {
  if (status === 'completed') return 'succeeded';
  if (status === 'deleting' || status === 'deleted' || status === 'cancelling' || status === 'cancelled') return 'failed';
  return 'running';
}

/** DescribeImages ImageState: pending, available, invalid, deregistered, transient, failed, error. */
export function imageVerdict(state: string | undefined): Verdict {
  if (state === 'available') return 'succeeded';
  if (state === 'pending' || state === 'transient' || state === undefined) return 'running';
  return 'failed';
}

export function percent(progress: string | undefined): number | undefined {
  if (progress === undefined || progress === '') return undefined;
  const n = Number.parseFloat(progress);
  return Number.isFinite(n) ? n : undefined;
}
