import { randomBytes } from 'node:crypto';

/** One step of a scripted task: what the next Describe call answers. */
export interface TaskStep {
  status: string;
  message?: string | undefined;
  progress?: string | undefined;
}

export interface FakeTask {
  id: string;
  kind: 'import-image' | 'import-snapshot' | 'export-image' | 'export-instance' | 'copy-image';
  script: TaskStep[];
  step: number;
  params: Record<string, string>;
  cancelled?: string | undefined;
  /** The AMI / snapshot id the task produces when it completes. */
  resultId: string;
  /** Where an export writes its object once completed. */
  output?: { bucket: string; key: string } | undefined;
  /** The export object has been written (once, when the task first reports completed). */
  landed?: boolean | undefined;
  /** The fake's own run log of the task: when the call that created it came, and when a Describe first reported its end (ms). */
  startedAt?: number | undefined;
  endedAt?: number | undefined;
}

/** States that end a task or copy (import/export tasks, a copy's AMI, a cancelled task). */
const ENDS = new Set(['completed', 'available', 'deleted', 'cancelled', 'failed']);

export function hexId(prefix: string, n = 17): string {
  return `${prefix}-${randomBytes(16).toString('hex').slice(0, n)}`;
}

/** The answer for this Describe call; scripts advance one step per call and stay on their last step. */
export function advance(task: FakeTask): TaskStep {
  if (task.cancelled !== undefined) {
    const step = task.step < 0 ? { status: 'deleted', message: task.cancelled } : { status: 'deleting', message: task.cancelled };
    task.step = -1;
    task.endedAt ??= Date.now();
    return step;
  }
  const step = task.script[Math.min(task.step, task.script.length - 1)]!;
  task.step++;
  if (ENDS.has(step.status)) task.endedAt ??= Date.now();
  return step;
}

/** VM Import/Export User Guide, "Monitor an import image task": the states an import passes through. */
export const IMPORT_IMAGE_SCRIPT: TaskStep[] = [
  { status: 'active', message: 'pending', progress: '2' },
  { status: 'validating', message: 'validating', progress: '10' },
  { status: 'validated', message: 'validated', progress: '20' },
  { status: 'converting', message: 'converting', progress: '40' },
  { status: 'updating', message: 'updating', progress: '80' },
  { status: 'completed', message: '' },
];

export const IMPORT_SNAPSHOT_SCRIPT: TaskStep[] = [
  { status: 'active', message: 'pending', progress: '3' },
  { status: 'active', message: 'downloading/converting', progress: '42' },
  { status: 'completed', message: '' },
];

export const EXPORT_SCRIPT: TaskStep[] = [
  { status: 'active', message: 'validating', progress: '0' },
  { status: 'active', message: 'exporting', progress: '50' },
  { status: 'completed', message: '' },
];

export const COPY_SCRIPT: TaskStep[] = [{ status: 'pending' }, { status: 'pending' }, { status: 'available' }];
