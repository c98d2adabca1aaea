import { abortedError } from '../../core/abort.js';
import { pollTask, type PollPolicy, type PolledState } from '../poll-task.js';
import type { CloudTaskCallbacks, CloudTaskStatus } from '../task-events.js';

export interface FollowOptions<T> {
  describe: () => Promise<PolledState<T>>;
  /** The cloud's cancel call (CancelImportTask, CancelExportTask, ECS CancelTask); absent when there is none. */
  cancel?: (() => Promise<void>) | undefined;
  /** Whether an abort with this reason cancels the task (default: every abort does). */
  cancelOnAbort?: ((reason: unknown) => boolean) | undefined;
  /** How the task is reported while the cancel is sent. */
  cancelling: Omit<CloudTaskStatus, 'message' | 'state'>;
  poll: PollPolicy;
  callbacks: CloudTaskCallbacks;
  signal?: AbortSignal | undefined;
}

/**
 * Polls a cloud task to its end. When the job is cancelled (the signal aborts) the task is cancelled
 * on the cloud too, so an abandoned import does not keep converting, and the abort is rethrown.
 */
export async function followTask<T>(o: FollowOptions<T>): Promise<PolledState<T>> {
  try {
    return await pollTask(o.describe, o.poll, o.callbacks, o.signal);
  } catch (err) {
    if (!o.signal?.aborted || !o.cancel || o.cancelOnAbort?.(o.signal.reason) === false) throw err;
    o.callbacks.onStatus?.({ ...o.cancelling, state: 'cancelling', message: 'the job was cancelled; cancelling the cloud task' });
    await o.cancel();
    throw abortedError(o.signal);
  }
}
