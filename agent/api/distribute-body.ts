import type { CopyRequest, ShareRequest } from '../cloud/distribute/distribute-options.js';
import { distributeProblems } from '../cloud/distribute/distribute-rules.js';
import { cloudOf, type ImportOptions } from '../cloud/upload-import/import-options.js';
import { importMakesImage } from '../cloud/distribute/distributed-image.js';
import { bad, obj, str } from './body-fields.js';

const MAX_REGIONS = 20;
const MAX_ACCOUNTS = 100;
const COPY_FIELDS = ['name', 'description', 'encrypted', 'kmsKeyId', 'encryptAlgorithm'];

function optionalBool(v: unknown, field: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw bad(field, 'must be true or false');
  return v as boolean | undefined;
}

function strings(v: unknown, field: string, max: number): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > max) throw bad(field, `must be an array of 1 to ${max} strings`);
  return v.map((x, i) => str(x, `${field}[${i}]`));
}

/** The fields one copy may carry besides its region. */
function copyFields(o: Record<string, unknown>, field: string, allowed: string[]): Omit<CopyRequest, 'region'> {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(`${field}.${k}`, 'is not a field of a copy');
  const s = (k: string) => (o[k] === undefined ? undefined : str(o[k], `${field}.${k}`));
  return { name: s('name'), description: s('description'), encrypted: optionalBool(o.encrypted, `${field}.encrypted`), kmsKeyId: s('kmsKeyId'), encryptAlgorithm: s('encryptAlgorithm') };
}

/**
 * `import.copy` (docs/api.md): `{ regions: [...], name?, description?, encrypted?, kmsKeyId?, encryptAlgorithm? }` (the same
 * settings for every region) or `[{ region, name?, ... }, ...]` (settings per region).
 */
export function parseCopyBody(raw: unknown): CopyRequest[] {
  if (Array.isArray(raw)) {
    if (raw.length === 0 || raw.length > MAX_REGIONS) throw bad('import.copy', `must list 1 to ${MAX_REGIONS} copies`);
    return raw.map((item, i) => {
      const o = obj(item, `import.copy[${i}]`);
      return { region: str(o.region, `import.copy[${i}].region`), ...copyFields(o, `import.copy[${i}]`, ['region', ...COPY_FIELDS]) };
    });
  }
  const o = obj(raw, 'import.copy');
  const shared = copyFields(o, 'import.copy', ['regions', ...COPY_FIELDS]);
  return strings(o.regions, 'import.copy.regions', MAX_REGIONS).map((region) => ({ region, ...shared }));
}

/** `import.share`: `{ accounts: [...], community?: boolean }`. */
export function parseShareBody(raw: unknown): ShareRequest {
  const o = obj(raw, 'import.share');
  for (const k of Object.keys(o)) if (k !== 'accounts' && k !== 'community') throw bad(`import.share.${k}`, 'is not a field of a share');
  const community = optionalBool(o.community, 'import.share.community');
  const accounts = o.accounts === undefined && community ? [] : strings(o.accounts, 'import.share.accounts', MAX_ACCOUNTS);
  return { accounts, community };
}

/** A problem of `copy[2].region` is `copy.regions[2]` in the object form, `copy[2].name` is `copy.name`. */
function asObjectForm(field: string): string {
  return field.replace(/^copy\[(\d+)\]\.region$/, 'copy.regions[$1]').replace(/^copy\[\d+\]\./, 'copy.');
}

/**
 * Copy and share make sense for an image (an aws-snapshot import registered as an AMI included); the whole
 * request is checked here, before the job is queued.
 */
export function parseDistribute(o: Record<string, unknown>, imp: Pick<ImportOptions, 'target' | 'bootMode' | 'platform'>): { copy?: CopyRequest[]; share?: ShareRequest } {
  if (o.copy === undefined && o.share === undefined) return {};
  const field = o.copy !== undefined ? 'import.copy' : 'import.share';
  const target = imp.target;
  if (!importMakesImage(imp)) throw bad(field, 'applies to an image: an aws-snapshot import makes snapshots, so add import.bootMode or import.platform to register them as an AMI (or use target aws-image)');
  const copy = o.copy === undefined ? undefined : parseCopyBody(o.copy);
  const share = o.share === undefined ? undefined : parseShareBody(o.share);
  const problem = distributeProblems(cloudOf(target), { copies: copy, share })[0];
  if (problem) throw bad(`import.${Array.isArray(o.copy) ? problem.field : asObjectForm(problem.field)}`, problem.message);
  return { ...(copy ? { copy } : {}), ...(share ? { share } : {}) };
}
