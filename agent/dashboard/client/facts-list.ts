import { el, setText } from './dom.js';

/** A <dl> of label/value pairs whose values are updated in place (keyed by label). */
export class FactsList {
  private readonly values = new Map<string, HTMLElement>();

  constructor(private readonly list: HTMLElement) {}

  set(label: string, value: string): void {
    let dd = this.values.get(label);
    if (!dd) {
      dd = el('dd');
      this.list.append(el('div', { class: 'fact' }, el('dt', {}, label), dd));
      this.values.set(label, dd);
    }
    setText(dd, value);
  }

  clear(): void {
    this.list.replaceChildren();
    this.values.clear();
  }
}
