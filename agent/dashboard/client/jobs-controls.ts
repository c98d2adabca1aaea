import { JOB_STATES, type JobState } from './api-types.js';
import { byId, el } from './dom.js';
import type { JobsTable } from './jobs-table.js';
import type { SortKey } from './job-order.js';

const HEADERS: Array<{ label: string; key: SortKey }> = [
  { label: 'Job', key: 'createdAt' },
  { label: 'State', key: 'state' },
  { label: 'Progress', key: 'progress' },
  { label: 'Rate', key: 'rate' },
  { label: 'ETA', key: 'eta' },
  { label: 'Source', key: 'source' },
  { label: 'Destination', key: 'destination' },
  { label: 'Format', key: 'format' },
];

/** Sort buttons in the column headers (aria-sort says the order) and the state filter. */
export function installJobsControls(table: JobsTable, rerender: () => void): void {
  const head = byId('jobs-head');
  const cells = HEADERS.map(({ label, key }) => {
    const button = el('button', { type: 'button', class: 'sort' }, label);
    const th = el('th', { scope: 'col', 'aria-sort': key === 'createdAt' ? 'descending' : 'none' }, button);
    button.addEventListener('click', () => {
      const order = table.setSort(key);
      for (const other of cells) other.setAttribute('aria-sort', 'none');
      th.setAttribute('aria-sort', order.descending ? 'descending' : 'ascending');
      rerender();
    });
    return th;
  });
  head.append(...cells);
  const filter = byId<HTMLSelectElement>('state-filter');
  filter.append(el('option', { value: '' }, 'all states'), ...JOB_STATES.map((s) => el('option', { value: s }, s)));
  filter.addEventListener('change', () => {
    table.setFilter(filter.value as JobState | '');
    rerender();
  });
}
