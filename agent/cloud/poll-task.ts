import { setTimeout as sleep } from 'node:timers/promises';
import { abortedError, throwIfAborted } from '../core/abort.js';
import { vmxError } from '../core/errors.js';
import { CLOUD } from './error-codes.js';
import type { CloudTaskCallbacks, CloudTaskStatus } from './task-events.js';

export interface PollPolicy {
  /** First wait between two describe calls. */
  initialIntervalMs: number;
  /** Waits grow by `factor` up to this. */
  maxIntervalMs: number;
  factor: number;
  /** Give up (CLOUD_TASK_TIMEOUT) after this long without a terminal state. */
  timeoutMs: number;
}

/** Import tasks take minutes to hours: start at 10 s, back off to 60 s, give up after 12 h. */
export const DEFAULT_POLL: PollPolicy = { initialIntervalMs: 10_000, maxIntervalMs: 60_000, factor: 1.5, timeoutMs: 12 * 3600_000 };

/** A policy whose first wait is `seconds`; shorter first waits keep the backoff ceiling proportionally lower. */
export function pollEvery(seconds: number): PollPolicy {
  const first = seconds * 1000;
  return { ...DEFAULT_POLL, initialIntervalMs: first, maxIntervalMs: Math.max(first, DEFAULT_POLL.maxIntervalMs * Math.min(1, seconds / 10)) };
}

export type Verdict = 'running' | 'succeeded' | 'failed';

export interface PolledState<T> {
  status: CloudTaskStatus;
  verdict: Verdict;
  /** The last describe answer, for the caller to read ids (AMI, snapshot, object) from. */
  raw: T;
}

/**
 * Describes a task until its state is terminal, reporting each distinct status once and in order.
 * A failed terminal state throws CLOUD_TASK_FAILED with the cloud's status message. The signal
 * interrupts the wait; the caller decides whether to cancel the task on the cloud.
 */
export async function pollTask<T>(
  describe: () => Promise<PolledState<T>>,
  policy: PollPolicy,
  callbacks: CloudTaskCallbacks,
  signal?: AbortSignal,
): Promise<PolledState<T>> {
  const started = Date.now();
  let interval = policy.initialIntervalMs;
  let last = '';
  for (;;) {
    throwIfAborted(signal);
    const state = await describe();
    const key = `${state.status.state}\u0000${state.status.message}\u0000${state.status.progress ?? ''}`;
    if (key !== last) callbacks.onStatus?.(state.status);
    last = key;
    if (state.verdict === 'succeeded') return state;
    if (state.verdict === 'failed') {
      const s = state.status;
      throw vmxError(CLOUD.TASK_FAILED, `${s.kind} task ${s.id} ended in state "${s.state}": ${s.message || 'no status message'}`);
    }
    if (Date.now() - started > policy.timeoutMs) {
      throw vmxError(CLOUD.TASK_TIMEOUT, `${state.status.kind} task ${state.status.id} still "${state.status.state}" after ${Math.round((Date.now() - started) / 1000)} s`);
    }
    await sleep(interval, undefined, signal ? { signal } : {}).catch(() => {
      throw abortedError(signal);
    });
    interval = Math.min(policy.maxIntervalMs, interval * policy.factor);
  }
}
