import { el, setText } from './dom.js';

/** One column: its header and the text of its cell for a row. */
export interface Column<T> {
  label: string;
  cell: (row: T) => string;
  /** Short words (regions, codes, ids) that read badly broken: kept on one line where the table has room. */
  short?: boolean;
}

/**
 * A read-only table of a job's outcome (copies, shares, findings, data disks), filled in place: rows
 * are added or removed at the end and every cell's text is set only when it changed, so a feed update
 * that adds one row leaves the others (and anything a screen reader is on) alone. Each cell carries its
 * column's label as data-label for the phone layout, where a row becomes a card.
 */
export class OutcomeTable<T> {
  private readonly body = el('tbody');

  constructor(table: HTMLTableElement, private readonly columns: ReadonlyArray<Column<T>>) {
    const head = el('tr', {}, ...columns.map((c) => el('th', { scope: 'col' }, c.label)));
    table.replaceChildren(el('thead', {}, head), this.body);
  }

  set(rows: readonly T[]): void {
    while (this.body.rows.length > rows.length) this.body.lastElementChild!.remove();
    while (this.body.rows.length < rows.length) this.body.append(el('tr', {}, ...this.columns.map((c) => el('td', { 'data-label': c.label, class: c.short ? 'short' : undefined }))));
    rows.forEach((row, i) => {
      const cells = this.body.rows[i]!.cells;
      this.columns.forEach((c, j) => setText(cells[j]!, c.cell(row)));
    });
  }
}
