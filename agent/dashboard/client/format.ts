/** Human-readable figures for the table and the job view (binary units, as the CLI prints them). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : '—';
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Percent done from the byte counters; null when the total is not known yet. */
/** An upload's percent is of the bytes the store confirmed; other jobs' of the bytes read. */
export function percentDone(p: { bytesRead: number; totalBytes: number; bytesConfirmed?: number | undefined; outputBytes?: number | undefined }): number | null {
  if (p.outputBytes !== undefined && p.bytesConfirmed !== undefined && p.outputBytes > 0) return Math.max(0, Math.min(100, (p.bytesConfirmed / p.outputBytes) * 100));
  if (!(p.totalBytes > 0)) return null;
  return Math.max(0, Math.min(100, (p.bytesRead / p.totalBytes) * 100));
}

export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
