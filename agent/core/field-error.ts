import { vmxError, type ErrorCodeDef, type VmxferError } from './errors.js';

/** A VmxferError that also names the request field at fault (docs/api.md: `error.field`). */
export type FieldError = VmxferError & { field: string };

export function fieldError(def: ErrorCodeDef, field: string, sentence: string): FieldError {
  return Object.assign(vmxError(def, `${field}: ${sentence}`), { field });
}

export function fieldOf(err: unknown): string | undefined {
  const f = (err as Partial<FieldError>)?.field;
  return typeof f === 'string' ? f : undefined;
}
