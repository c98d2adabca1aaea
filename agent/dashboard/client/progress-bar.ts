import { el, setAttr, setText } from './dom.js';
import { formatBytes, percentDone } from './format.js';
import type { JobState, Progress } from './api-types.js';

/** An accessible progress bar: role=progressbar with aria-valuenow, a fill scaled by CSS transform, and the percent as text. */
export interface ProgressBar {
  root: HTMLElement;
  fill: HTMLElement;
  label: HTMLElement;
}

export function createProgressBar(name: string): ProgressBar {
  const fill = el('span', { class: 'bar-fill' });
  const track = el('span', { class: 'bar-track' }, fill);
  const label = el('span', { class: 'bar-text' });
  const root = el('span', { class: 'bar', role: 'progressbar', 'aria-label': name, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuetext': 'not started' }, track, label);
  return { root, fill, label };
}

export function updateProgressBar(bar: ProgressBar, progress: Progress, state: JobState): void {
  const pct = state === 'completed' ? 100 : percentDone(progress);
  if (pct === null) {
    bar.root.removeAttribute('aria-valuenow');
    setAttr(bar.root, 'aria-valuetext', state === 'queued' ? 'waiting' : 'size not known yet');
    bar.fill.style.transform = 'scaleX(0)';
    setText(bar.label, '—');
    return;
  }
  const rounded = Math.floor(pct);
  setAttr(bar.root, 'aria-valuenow', String(rounded));
  const stalled = state === 'active' && progress.stalled === true ? ', stalled' : '';
  setAttr(bar.root, 'aria-valuetext', progress.outputBytes !== undefined ? `${rounded}% (${formatBytes(progress.bytesConfirmed ?? 0)} of ${formatBytes(progress.outputBytes)} sent${stalled})` : `${rounded}% (${formatBytes(progress.bytesRead)} of ${formatBytes(progress.totalBytes)}${stalled})`);
  setAttr(bar.root, 'data-state', state);
  setAttr(bar.root, 'data-stalled', String(state === 'active' && progress.stalled === true));
  bar.fill.style.transform = `scaleX(${pct / 100})`;
  setText(bar.label, `${rounded}%`);
}
