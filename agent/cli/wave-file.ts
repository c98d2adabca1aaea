import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';

/** A submit body as the wave file holds it (docs/api.md "Submit body"); the daemon validates the rest. */
export type JobBody = Record<string, unknown>;

/**
 * `vmxfer jobs submit --file FILE`: a YAML (or JSON, which is YAML) list of submit bodies, or a mapping
 * `jobs: [...]` as POST /v1/jobs takes it. Local paths (`source`, a `destination` that is no URL,
 * `options.parent`) may be relative to the file's directory; they are sent absolute.
 */
export async function readWaveFile(file: string): Promise<JobBody[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw vmxError(code === 'ENOENT' ? CORE.FILE_NOT_FOUND : CORE.IO, `cannot read the wave file: ${code ?? (err as Error).message}`, { file, cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw vmxError(CORE.USAGE, `the wave file is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { file });
  }
  const jobs = Array.isArray(doc) ? doc : isMap(doc) && Object.keys(doc).length === 1 && Array.isArray(doc.jobs) ? doc.jobs : undefined;
  if (!jobs || jobs.length === 0) throw vmxError(CORE.USAGE, 'the wave file must hold a non-empty list of job bodies, or "jobs:" with one', { file });
  const base = dirname(resolve(file));
  return jobs.map((job, i) => {
    if (!isMap(job)) throw vmxError(CORE.USAGE, `jobs[${i}] must be a mapping of submit body fields (source, destination, ...)`, { file });
    return absolute(job, base);
  });
}

function absolute(job: JobBody, base: string): JobBody {
  const local = (p: unknown) => (typeof p === 'string' && p !== '' && !/^[a-z0-9]+:\/\//i.test(p) && !isAbsolute(p) ? resolve(base, p) : p);
  const out: JobBody = { ...job };
  if ('source' in job) out.source = local(job.source);
  if ('destination' in job) out.destination = local(job.destination);
  if (isMap(job.options) && 'parent' in job.options) out.options = { ...job.options, parent: local(job.options.parent) };
  return out;
}

function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
