import type { CopyOutcome } from '../cloud/distribute/copy-outcome.js';
import type { ImageShares } from '../cloud/distribute/distribute-step.js';
import type { ImportedResult, JobCloudOutcome } from './job-types.js';

/** The outcome an import result stands for: its ids, each copy it lists available, its shares. */
export function outcomeOfImport(imported: ImportedResult): JobCloudOutcome {
  const { copies, shares, ...ids } = imported;
  return { ...ids, copies: (copies ?? []).map((c) => ({ ...c, state: 'available' })), shares: shares ?? [] };
}

/**
 * The outcome with one copy's new state, copies kept in the order the job asked for them (`regions`). A
 * copy a restart follows again stays `available` once it was: an available image does not go back.
 */
export function withCopy(o: JobCloudOutcome, copy: CopyOutcome, regions: readonly string[]): JobCloudOutcome {
  const was = o.copies.find((c) => c.region === copy.region);
  const next = was?.state === 'available' && copy.state === 'copying' && was.imageId === copy.imageId ? was : copy;
  const copies = [...o.copies.filter((c) => c.region !== copy.region), next];
  copies.sort((a, b) => regions.indexOf(a.region) - regions.indexOf(b.region));
  return { ...o, copies };
}

/** The outcome with one image's shares, in place of what a previous run reported for that image. */
export function withShares(o: JobCloudOutcome, shared: ImageShares): JobCloudOutcome {
  const i = o.shares.findIndex((s) => s.region === shared.region && s.imageId === shared.imageId);
  const shares = i < 0 ? [...o.shares, shared] : o.shares.map((s, j) => (j === i ? shared : s));
  return { ...o, shares };
}

/** A job cancelled while it was not running: the copies it still showed as copying were stopped with it. */
export function withCopiesCancelled(o: JobCloudOutcome, why: Pick<CopyOutcome, 'code' | 'reason'>): JobCloudOutcome {
  return { ...o, copies: o.copies.map((c) => (c.state === 'copying' ? { ...c, state: 'cancelled', ...why } : c)) };
}
