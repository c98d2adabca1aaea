import { destinationKey } from './run-context.js';
import { JOB_SCHEMA, JOB_STATES, isJobRecord, type JobRecord } from './job-types.js';

/** Schema 1 (before the JobStore port): `version: 1` was the format, ids were `j-YYYYMMDD-xxxxxx`. */
interface JobRecordV1 extends Omit<JobRecord, 'schema' | 'version' | 'owner' | 'destinationKey' | 'steps'> {
  version: 1;
}

function isV1(x: unknown): x is JobRecordV1 {
  const j = x as JobRecordV1;
  return (
    typeof j === 'object' && j !== null && !('schema' in j) && j.version === 1 && typeof j.id === 'string' &&
    (JOB_STATES as readonly string[]).includes(j.state) && typeof j.source === 'string' && typeof j.destination === 'string' &&
    typeof j.format === 'string' && typeof j.options === 'object' && typeof j.progress === 'object' && j.progress !== null &&
    typeof j.createdAt === 'string' && typeof j.attempts === 'number'
  );
}

/** Schema 1's admission key had the configured region in it; without the configuration it is the default one. */
const NO_REGION = { stores: { s3_region: '', oss_region: '' } } as Parameters<typeof destinationKey>[3];

function fromV1(r: JobRecordV1): JobRecord {
  return { ...r, schema: JOB_SCHEMA, version: 1, owner: null, destinationKey: destinationKey(r.kind, r.source, r.destination, NO_REGION), steps: {} };
}

/** Any stored record this build can read, as a current one; undefined for what is no job record at all. */
export function migrateJobRecord(x: unknown): JobRecord | undefined {
  if (isJobRecord(x)) return x;
  if (isV1(x)) return fromV1(x);
  return undefined;
}

export function isStoredJobRecord(x: unknown): x is JobRecord {
  return migrateJobRecord(x) !== undefined;
}
