import { parseKeyValueLines } from './key-value-lines.js';

/** A field the page itself found wrong, named like the API names fields (e.g. "options.tags"). */
export interface LocalFieldError {
  field: string;
  message: string;
}

/** Builds the POST /v1/jobs body (docs/api.md "Submit body") from the form; empty options are left out. */
export function buildSubmitBody(form: HTMLFormElement): { body: Record<string, unknown> } | { error: LocalFieldError } {
  const value = (field: string) => (form.querySelector<HTMLInputElement>(`[data-field="${field}"]`)?.value ?? '').trim();
  const options: Record<string, unknown> = {};
  for (const field of ['partSize', 'parent', 'storageClass']) if (value(`options.${field}`)) options[field] = value(`options.${field}`);
  for (const field of ['disk', 'concurrency']) {
    const raw = value(`options.${field}`);
    if (!raw) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) return { error: { field: `options.${field}`, message: 'must be a whole number of 1 or more' } };
    options[field] = n;
  }
  if (value('options.encryption')) options.encryption = { algorithm: 'aws:kms', kmsKeyId: value('options.encryption') };
  for (const field of ['tags', 'metadata']) {
    const parsed = parseKeyValueLines(value(`options.${field}`));
    if ('error' in parsed) return { error: { field: `options.${field}`, message: parsed.error } };
    if (Object.keys(parsed.value).length) options[field] = parsed.value;
  }
  for (const field of ['source', 'destination']) if (!value(field)) return { error: { field, message: 'is required' } };
  const body: Record<string, unknown> = { source: value('source'), destination: value('destination'), format: value('format') };
  if (Object.keys(options).length) body.options = options;
  return { body };
}
