import { vmxError } from '../core/errors.js';
import { CLOUD } from '../cloud/error-codes.js';
import type { DistributeResult } from '../cloud/distribute/distribute-step.js';

/** One line per copy, per account and per community publishing. */
export function distributeSummary(r: DistributeResult): string {
  const lines = r.copies.map((c) => `copy ${c.region}: ${c.imageId}`);
  for (const s of r.shares) {
    for (const a of s.accounts) lines.push(`share ${s.imageId} (${s.region}) with ${a.account}: ${a.shared ? `shared${a.message ? ` (${a.message})` : ''}` : `FAILED${a.cloudCode ? ` [${a.cloudCode}]` : ''} ${a.message ?? ''}`.trimEnd()}`);
    if (s.community) lines.push(`community ${s.imageId} (${s.region}): ${s.community.published ? 'published' : `FAILED${s.community.cloudCode ? ` [${s.community.cloudCode}]` : ''} ${s.community.message ?? ''}`.trimEnd()}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The exit status of a run whose shares were printed: CLOUD_SHARE_FAILED (exit 7) when any failed. */
export function throwIfShareFailed(r: DistributeResult): void {
  const failed = r.shares.flatMap((s) => [...s.accounts.filter((a) => !a.shared).map((a) => `${a.account} on ${s.imageId}`), ...(s.community && !s.community.published ? [`community publishing of ${s.imageId}`] : [])]);
  if (failed.length) throw vmxError(CLOUD.SHARE_FAILED, `the share failed for ${failed.join(', ')}`);
}
