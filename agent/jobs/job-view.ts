import type { ProgressSnapshot } from '../core/progress.js';
import type { PartBoard } from './part-board.js';
import type { JobProgress, JobRecord, JobView, PartView } from './job-types.js';

/** The API's progress object from a tracker snapshot and the job's part board. */
export function progressOf(s: ProgressSnapshot, parts: PartBoard): JobProgress {
  return {
    bytesRead: s.bytesRead,
    totalBytes: s.totalBytes,
    bytesWritten: s.bytesWritten,
    rate: Math.round(s.rate),
    etaSeconds: Number.isFinite(s.etaSeconds) ? Math.round(s.etaSeconds) : null,
    partsDone: parts.count('done') + parts.count('skipped'),
    partsInFlight: parts.count('in-flight'),
    partsTotal: s.upload?.partsTotal ?? null,
    partSize: s.upload?.partSize ?? parts.partSize,
    ...(s.upload ? { bytesConfirmed: s.upload.bytesConfirmed, outputBytes: s.upload.outputBytes } : {}),
    ...(s.disk ? { disk: s.disk } : {}),
    ...(s.stalled ? { stalled: true as const } : {}),
  };
}

/** docs/api.md Job: lists and the feed get it without parts and throughput, GET one job with them. */
export function jobView(rec: JobRecord, detail?: { parts: PartView[]; throughput: Array<[number, number]> }): JobView {
  const { schema: _s, version: _version, owner: _o, destinationKey: _k, steps: _j, uploaded: _u, importTask: _i, imported: _m, copiesStarted: _c, exportTask: _t, exported: _e, downloadedDisks: _d, export: exp, ...rest } = rec;
  const view: JobView = {
    ...rest, progress: { ...rec.progress }, import: rec.import ?? null, cloudTask: rec.cloudTask ?? null, cloudOutcome: rec.cloudOutcome ?? null, ...(exp ? { export: exp } : {}),
    // docs/api.md Job: where the job runs or ran, where it must run, and its place in the queue (records older than #15 lack them).
    agent: rec.agent ?? null, affinity: rec.affinity ?? null, priority: rec.priority ?? 0,
  };
  if (detail) {
    view.parts = detail.parts;
    view.throughput = detail.throughput;
  }
  return view;
}
