import type { StepJournal } from '../workflows/ports.js';
import { STEP } from '../workflows/steps.js';
import type { JobRecord } from './job-types.js';

/** Fields records written before the journal carried (docs/api.md never showed them), and their steps. */
const LEGACY_FIELDS = {
  uploaded: STEP.upload,
  importTask: STEP.importStarted,
  imported: STEP.imported,
  copiesStarted: STEP.copiesStarted,
  exportTask: STEP.exportStarted,
  exported: STEP.exported,
  downloadedDisks: STEP.disksDownloaded,
} as const;

export type LegacyStepField = keyof typeof LEGACY_FIELDS;

/** An older record's resume fields moved into `steps` (a record with none is left as it is). */
export function migrateLegacySteps(rec: JobRecord): JobRecord {
  const legacy = rec as JobRecord & Partial<Record<LegacyStepField, unknown>>;
  for (const [field, step] of Object.entries(LEGACY_FIELDS) as Array<[LegacyStepField, string]>) {
    if (!(field in legacy)) continue;
    const value = legacy[field];
    delete legacy[field];
    if (value === null || value === undefined) continue;
    rec.steps = { ...rec.steps, [step]: rec.steps?.[step] ?? value };
  }
  return rec;
}

/** The steps of a record, old or new. */
export function stepsOf(rec: JobRecord): Record<string, unknown> {
  return migrateLegacySteps(structuredClone(rec)).steps ?? {};
}

/** The daemon's journal: the job record's `steps`, each write persisted (atomic, fsynced) before it resolves. */
export function recordStepJournal(rec: JobRecord, persist: () => Promise<void>): StepJournal {
  migrateLegacySteps(rec);
  const write = async (name: string, value: unknown) => {
    rec.steps = { ...rec.steps, [name]: value };
    await persist();
  };
  return {
    async once<T>(name: string, fn: () => Promise<T>): Promise<T> {
      if (rec.steps && name in rec.steps) return rec.steps[name] as T;
      const value = await fn();
      await write(name, value);
      return value;
    },
    note: write,
    read: <T>(name: string) => rec.steps?.[name] as T | undefined,
  };
}
