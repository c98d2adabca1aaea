import type { Verdict } from '../poll-task.js';

/**
 * ECS task states (DescribeTasks / DescribeTaskAttribute TaskStatus): Waiting, Processing, Paused in
 * progress; Finished done; Failed, Cancelled, Deleted ended without a result.
 */
export function ecsTaskVerdict(status: string | undefined): Verdict {
  if (status === 'Finished') return 'succeeded';
  if (status === 'Failed' || status === 'Cancelled' || status === 'Deleted' || status === 'Expired') return 'failed';
  return 'running';
}

/** ECS image Status (DescribeImages): Creating, Waiting in progress; Available done; CreateFailed, UnAvailable failed. */
export function ecsImageVerdict(status: string | undefined): Verdict {
  if (status === 'Available') return 'succeeded';
  if (status === 'CreateFailed' || status === 'UnAvailable' || status === 'Deprecated') return 'failed';
  return 'running';
}

export function ecsPercent(progress: string | undefined): number | undefined {
  if (!progress) return undefined;
  const n = Number.parseFloat(progress.replace('%', ''));
  return Number.isFinite(n) ? n : undefined;
}
