import type { ProgressSnapshot, ProgressTracker } from '../core/progress.js';
import { formatBytes, formatDuration } from '../core/units.js';

/**
 * Renders a ProgressTracker: a redrawn bar on a terminal (stderr), or with --json one JSON line per
 * second on stdout. Returns a function that stops rendering; its first call draws the last state once
 * more (the bar's final line, or a last JSON line), so the output ends on where the work stopped.
 */
export function renderProgress(tracker: ProgressTracker, mode: 'tty' | 'json' | 'none'): () => void {
  if (mode === 'none') return () => undefined;
  let last: ProgressSnapshot = tracker.snapshot();
  const onProgress = (s: ProgressSnapshot) => {
    last = s;
  };
  tracker.on('progress', onProgress);
  const draw = () => {
    if (mode === 'json') process.stdout.write(JSON.stringify({ type: 'progress', ...jsonSafe(last) }) + '\n');
    else process.stderr.write(`\r\x1b[K${bar(last)}`);
  };
  const timer = setInterval(draw, mode === 'json' ? 1000 : 200);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    tracker.off('progress', onProgress);
    last = tracker.snapshot();
    if (mode === 'tty') process.stderr.write(`\r\x1b[K${bar(last)}\n`);
    else draw();
  };
}

/** While uploading, the bar is the bytes the store confirmed; conversion is shown beside it. */
export function bar(s: ProgressSnapshot): string {
  const u = s.upload;
  const done = u ? u.bytesConfirmed : s.bytesRead;
  const total = u ? u.outputBytes : s.totalBytes;
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const width = 30;
  const full = Math.round(frac * width);
  const converted = s.totalBytes > 0 ? Math.min(100, (s.bytesRead / s.totalBytes) * 100) : 0;
  return (
    `${(s.stalled ? 'stalled' : s.phase).padEnd(10)} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(frac * 100).toFixed(1).padStart(5)}% ` +
    `${formatBytes(done)}/${formatBytes(total)}${u ? ' sent' : ''} ${formatBytes(s.rate)}/s ETA ${formatDuration(s.etaSeconds)}` +
    (u ? ` | parts ${u.partsDone}/${u.partsTotal} | converted ${converted.toFixed(0)}%` : ` out ${formatBytes(s.bytesWritten)}`) +
    (s.disk ? ` disk ${s.disk.index}/${s.disk.count}` : '')
  );
}

function jsonSafe(s: ProgressSnapshot) {
  return { ...s, etaSeconds: Number.isFinite(s.etaSeconds) ? Math.round(s.etaSeconds) : null, rate: Math.round(s.rate) };
}
