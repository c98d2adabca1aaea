import { FrameRequest } from './frame-request.js';
import { PART_STATES, type Part, type PartState } from './api-types.js';
import { fitCanvas } from './canvas-size.js';
import { measureFrame } from './frame-batcher.js';
import { el, setAttr, setText } from './dom.js';

/** Fill colours per part state; the legend repeats them as text so colour is never the only cue. */
export const PART_COLOURS: Record<PartState, string> = {
  pending: '#c4cad3',
  'in-flight': '#1f6feb',
  done: '#1a7f37',
  skipped: '#8a6d00',
  failed: '#cf222e',
};

/** S3 and OSS allow 10,000 parts; the bound leaves room and keeps a bad message from allocating without limit. */
const MAX_PARTS = 100_000;
const GAP = 1;

/**
 * The parts of one job as a canvas of cells (one per part, coloured by state). 10,000 parts are one
 * canvas, not 10,000 elements; a "parts" message repaints only the cells it names, once per frame.
 */
export class PartsGrid {
  private states = new Uint8Array(0);
  private changed: number[] = [];
  private full = true;
  private readonly frame = new FrameRequest(() => measureFrame('vmxfer:parts', () => this.draw()));
  private cell = 16;
  private columns = 1;
  private readonly legend = new Map<PartState, HTMLElement>();
  /** The box's width from ResizeObserver: reading clientWidth while drawing would force a layout per frame. */
  private width = 300;

  constructor(private readonly canvas: HTMLCanvasElement, legendList: HTMLElement) {
    for (const state of PART_STATES) {
      const count = el('span', { class: 'count' }, '0');
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = PART_COLOURS[state];
      legendList.append(el('li', {}, swatch, `${state}: `, count));
      this.legend.set(state, count);
    }
    new ResizeObserver((entries) => {
      this.width = Math.max(40, entries[0]?.contentRect.width ?? this.width);
      this.redrawAll();
    }).observe(canvas.parentElement ?? canvas);
  }

  /** Replaces every part (from GET /v1/jobs/:id); `total` sizes the grid when the job knows its part count. */
  reset(parts: Part[], total: number | null): void {
    const size = Math.min(MAX_PARTS, Math.max(total ?? 0, ...parts.map((p) => p.n), 0));
    this.states = new Uint8Array(size);
    for (const part of parts) this.store(part);
    this.redrawAll();
  }

  /** Applies a "parts" feed message: only the named cells change. */
  apply(parts: Part[]): void {
    for (const part of parts) {
      if (part.n > this.states.length && part.n <= MAX_PARTS) this.grow(part.n);
      if (this.store(part)) this.changed.push(part.n - 1);
    }
    this.request();
  }

  /** The job's part count as its progress states it (projected, then exact): the grid has exactly that many cells. */
  setTotal(total: number | null): void {
    if (total === null || total === this.states.length) return;
    let highest = 0;
    for (let i = this.states.length - 1; i >= 0 && highest === 0; i--) if (this.states[i] !== 0) highest = i + 1;
    const size = Math.min(MAX_PARTS, Math.max(total, highest));
    if (size === this.states.length) return;
    const resized = new Uint8Array(size);
    resized.set(this.states.subarray(0, size));
    this.states = resized;
    this.full = true;
    this.request();
  }

  /** A part past the grid's end: the grid grows to it, not beyond, so it never shows parts that do not exist. */
  private grow(n: number): void {
    const bigger = new Uint8Array(Math.min(MAX_PARTS, Math.max(n, this.states.length)));
    bigger.set(this.states);
    this.states = bigger;
    this.full = true;
  }

  private store(part: Part): boolean {
    const index = PART_STATES.indexOf(part.state);
    if (!Number.isInteger(part.n) || part.n < 1 || part.n > this.states.length || index < 0) return false;
    this.states[part.n - 1] = index;
    return true;
  }

  private redrawAll(): void {
    this.full = true;
    this.request();
  }

  private request(): void {
    this.frame.request();
  }

  private draw(): void {
    const width = this.width;
    if (this.full) this.layout(width);
    const ctx = fitCanvas(this.canvas, width, this.height());
    const cells = this.full ? null : this.changed;
    this.full = false;
    this.changed = [];
    if (!cells) ctx.clearRect(0, 0, width, this.height());
    for (let s = 0; s < PART_STATES.length; s++) this.paintState(ctx, s, cells);
    this.describe();
  }

  /** Bigger cells for few parts, down to 4 px so 10,000 parts stay about 300 px tall at desktop width. */
  private layout(width: number): void {
    const n = Math.max(1, this.states.length);
    this.cell = [16, 12, 8, 6, 5, 4].find((c) => Math.ceil(n / Math.floor(width / c)) * c <= 320) ?? 4;
    this.columns = Math.max(1, Math.floor(width / this.cell));
  }

  private height(): number {
    return Math.max(this.cell, Math.ceil(this.states.length / this.columns) * this.cell);
  }

  /** One fillStyle per state, then its cells: a few thousand fillRects, no per-cell style changes. */
  private paintState(ctx: CanvasRenderingContext2D, state: number, cells: number[] | null): void {
    ctx.fillStyle = PART_COLOURS[PART_STATES[state]!];
    const size = this.cell - GAP;
    const paint = (i: number) => {
      if (this.states[i] !== state) return;
      ctx.fillRect((i % this.columns) * this.cell, Math.floor(i / this.columns) * this.cell, size, size);
    };
    if (cells) for (const i of cells) paint(i);
    else for (let i = 0; i < this.states.length; i++) paint(i);
  }

  private describe(): void {
    const counts = new Array<number>(PART_STATES.length).fill(0);
    for (const s of this.states) counts[s]!++;
    PART_STATES.forEach((state, i) => setText(this.legend.get(state)!, String(counts[i])));
    const summary = PART_STATES.map((state, i) => `${counts[i]} ${state}`).join(', ');
    setAttr(this.canvas, 'aria-label', `${this.states.length} parts: ${summary}`);
  }
}
