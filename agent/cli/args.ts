import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with its errors turned into VMX_USAGE (exit 2) and a help text attached. */
export function parseCommand<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw vmxError(CORE.USAGE, `${(err as Error).message}\n\n${usage}`);
  }
}

export function requirePositionals(positionals: string[], names: string[], usage: string, atMost = names.length): string[] {
  if (positionals.length < names.length || positionals.length > atMost) {
    throw vmxError(CORE.USAGE, `expected ${names.join(' ')}, got ${positionals.length} argument(s)\n\n${usage}`);
  }
  return positionals;
}
