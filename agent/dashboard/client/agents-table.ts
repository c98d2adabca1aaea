import type { Agent } from './api-types.js';
import { el, setAttr, setText } from './dom.js';
import { formatTime } from './format.js';

const COLUMNS: ReadonlyArray<{ label: string; cell: (a: Agent) => string }> = [
  { label: 'Agent', cell: (a) => a.name },
  { label: 'State', cell: (a) => a.state },
  { label: 'Running jobs', cell: (a) => String(a.runningJobs) },
  { label: 'Free slots', cell: (a) => String(a.freeSlots) },
  { label: 'Last heartbeat', cell: (a) => formatTime(a.lastHeartbeat) },
  { label: 'Version', cell: (a) => a.version },
];

/**
 * The fleet's agents (docs/api.md "Agents"), as the feed's `agents` messages list them: one row per
 * agent, its state as a badge (lost ones stand out), filled in place so an unchanged row is untouched.
 */
export class AgentsTable {
  private readonly body = el('tbody');

  constructor(table: HTMLTableElement, private readonly count: HTMLElement) {
    table.replaceChildren(el('thead', {}, el('tr', {}, ...COLUMNS.map((c) => el('th', { scope: 'col' }, c.label)))), this.body);
  }

  set(agents: readonly Agent[]): void {
    while (this.body.rows.length > agents.length) this.body.lastElementChild!.remove();
    while (this.body.rows.length < agents.length) this.body.append(el('tr', {}, ...COLUMNS.map((c, i) => el('td', { 'data-label': c.label }, ...(i === 1 ? [el('span', { class: 'badge' })] : [])))));
    agents.forEach((agent, i) => {
      const row = this.body.rows[i]!;
      setAttr(row, 'data-agent', agent.name);
      setAttr(row, 'data-state', agent.state);
      COLUMNS.forEach((c, j) => {
        const cell = row.cells[j]!;
        const target = j === 1 ? cell.firstElementChild! : cell;
        if (j === 1) setAttr(target, 'data-state', agent.state);
        setText(target, c.cell(agent));
      });
    });
    const lost = agents.filter((a) => a.state === 'lost').length;
    setText(this.count, `${agents.length} agent${agents.length === 1 ? '' : 's'}${lost ? `, ${lost} lost` : ''}`);
  }
}
