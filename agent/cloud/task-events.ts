/** What the daemon's job model carries as `cloudTask` (docs/api.md) and the CLI prints. */
export type CloudTaskKind =
  | 'aws-image'
  | 'aws-snapshot'
  | 'ecs-image'
  | 'aws-export-image'
  | 'aws-export-instance'
  | 'ecs-export-image'
  | 'aws-copy'
  | 'ecs-copy';

export interface CloudTaskStatus {
  kind: CloudTaskKind;
  id: string;
  /** The cloud's own state word (active, converting, Processing, ...). */
  state: string;
  message: string;
  /** Percent as the cloud reports it, when it does. */
  progress?: number | undefined;
}

/** Callbacks a task runner reports through; every one optional. */
export interface CloudTaskCallbacks {
  /** Every distinct (state, message, progress) observed, in order. */
  onStatus?: ((status: CloudTaskStatus) => void) | undefined;
  /** A throttled or failed call about to be retried. */
  onRetry?: ((code: string, attempt: number) => void) | undefined;
}
