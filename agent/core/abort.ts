import { CORE } from './error-codes.js';
import { vmxError, VmxferError } from './errors.js';

export function abortedError(signal?: AbortSignal): VmxferError {
  const reason = signal?.reason;
  if (reason instanceof VmxferError) return reason;
  return vmxError(CORE.ABORTED, 'operation aborted', { cause: reason });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortedError(signal);
}
