import { API } from './error-codes.js';
import { fieldError } from '../core/field-error.js';

/** Shape checks shared by the submit body's parts (docs/api.md "Submit body"); each names the bad field. */
const MAX_STRING = 4096;
const MAX_MAP_ENTRIES = 50;

export const bad = (field: string, sentence: string) => fieldError(API.BAD_REQUEST, field, sentence);

export function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw bad(field, 'must be a non-empty string');
  if (v.length > MAX_STRING || v.includes('\0')) throw bad(field, `must be at most ${MAX_STRING} characters with no NUL`);
  return v;
}

export function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(field, 'must be an object');
  return v as Record<string, unknown>;
}

export function stringMap(v: unknown, field: string): Record<string, string> {
  const m = obj(v, field);
  const entries = Object.entries(m);
  if (entries.length > MAX_MAP_ENTRIES) throw bad(field, `may hold at most ${MAX_MAP_ENTRIES} entries`);
  for (const [k, x] of entries) str(x, `${field}.${k}`);
  return m as Record<string, string>;
}
