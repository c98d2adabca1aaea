import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { closest } from './did-you-mean.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with its errors turned into VMX_USAGE (exit 2), naming the closest flag for a typo. */
export function parseCommand<O extends Options>(argv: string[], options: O, usage: string) {
  // -v/--verbose is read by main.ts before dispatch; every command accepts it.
  const all = { ...options, help: { type: 'boolean', short: 'h' }, verbose: { type: 'boolean', short: 'v' } } as const;
  try {
    return parseArgs({ args: argv, options: all, allowPositionals: true, strict: true });
  } catch (err) {
    throw vmxError(CORE.USAGE, `${firstLine((err as Error).message)}${suggestFlag(err, Object.keys(all))}\n\n${usage}`);
  }
}

export function requirePositionals(positionals: string[], names: string[], usage: string, atMost = names.length): string[] {
  if (positionals.length < names.length || positionals.length > atMost) {
    throw vmxError(CORE.USAGE, `expected ${names.join(' ')}, got ${positionals.length} argument(s)\n\n${usage}`);
  }
  return positionals;
}

function suggestFlag(err: unknown, known: string[]): string {
  if ((err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return '';
  const given = /'--?([^'=]+)/.exec((err as Error).message)?.[1];
  const best = given && closest(given, known);
  return best ? `; did you mean --${best}?` : '';
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
}
