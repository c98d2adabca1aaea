/**
 * The typed error model. Every failure vmxfer reports is a VmxferError whose `code` is stable
 * (documented in README's error table, kept complete by test/error-catalog.test.ts) and whose
 * message names the file, the byte offset and the rule broken.
 */

export type ErrorCategory =
  | 'usage'
  | 'invalid-input'
  | 'unsupported'
  | 'io'
  | 'integrity'
  | 'remote'
  | 'aborted'
  | 'internal';

/** CLI exit status per category (documented in README). */
export const EXIT_CODES: Readonly<Record<ErrorCategory, number>> = {
  usage: 2,
  'invalid-input': 3,
  unsupported: 4,
  io: 5,
  integrity: 6,
  remote: 7,
  internal: 70,
  aborted: 130,
};

export interface ErrorCodeDef {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly summary: string;
}

type Defs = Record<string, { category: ErrorCategory; summary: string }>;

/** Declares a family of codes; `PREFIX_KEY` becomes the permanent code string. */
export function defineErrorCodes<T extends Defs>(prefix: string, defs: T): { readonly [K in keyof T]: ErrorCodeDef } {
  const out: Record<string, ErrorCodeDef> = {};
  for (const [key, def] of Object.entries(defs)) {
    out[key] = Object.freeze({ code: `${prefix}_${key}`, category: def.category, summary: def.summary });
  }
  return out as { readonly [K in keyof T]: ErrorCodeDef };
}

export interface ErrorDetails {
  file?: string | undefined;
  offset?: number | undefined;
  cause?: unknown;
  retryable?: boolean;
}

export class VmxferError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly retryable: boolean;

  constructor(def: ErrorCodeDef, sentence: string, details: ErrorDetails = {}) {
    super(formatMessage(def.code, sentence, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = def.code;
    this.category = def.category;
    this.file = details.file;
    this.offset = details.offset;
    this.retryable = details.retryable ?? false;
  }

  override get name(): string {
    return CLASS_NAMES[this.category];
  }

  get exitCode(): number {
    return EXIT_CODES[this.category];
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      category: this.category,
      message: this.message,
      ...(this.file !== undefined ? { file: this.file } : {}),
      ...(this.offset !== undefined ? { offset: this.offset } : {}),
    };
  }
}

export class UsageError extends VmxferError {}
export class InvalidInputError extends VmxferError {}
export class UnsupportedError extends VmxferError {}
export class IoError extends VmxferError {}
export class IntegrityError extends VmxferError {}
export class RemoteError extends VmxferError {}
export class AbortedError extends VmxferError {}
export class InternalError extends VmxferError {}

const CLASS_NAMES: Record<ErrorCategory, string> = {
  usage: 'UsageError',
  'invalid-input': 'InvalidInputError',
  unsupported: 'UnsupportedError',
  io: 'IoError',
  integrity: 'IntegrityError',
  remote: 'RemoteError',
  aborted: 'AbortedError',
  internal: 'InternalError',
};

const CLASSES: Record<ErrorCategory, typeof VmxferError> = {
  usage: UsageError,
  'invalid-input': InvalidInputError,
  unsupported: UnsupportedError,
  io: IoError,
  integrity: IntegrityError,
  remote: RemoteError,
  aborted: AbortedError,
  internal: InternalError,
};

/** Builds the error of the class matching the code's category. */
export function vmxError(def: ErrorCodeDef, sentence: string, details: ErrorDetails = {}): VmxferError {
  return new CLASSES[def.category](def, sentence, details);
}

function formatMessage(code: string, sentence: string, d: ErrorDetails): string {
  const where = [d.file, d.offset !== undefined ? `offset ${d.offset}` : undefined].filter((x) => x !== undefined);
  return `${where.length ? where.join(', ') + ': ' : ''}${sentence} [${code}]`;
}

export function isVmxferError(err: unknown): err is VmxferError {
  return err instanceof VmxferError;
}
