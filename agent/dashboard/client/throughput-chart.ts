import { FrameRequest } from './frame-request.js';
import { fitCanvas } from './canvas-size.js';
import { formatRate } from './format.js';
import { setAttr } from './dom.js';

/** docs/api.md: a job's throughput history covers the last 10 minutes, one sample every 2 s. */
const WINDOW_SECONDS = 600;
const SAMPLE_SECONDS = 2;
const HEIGHT = 180;
const AXIS = 88;
const FONT = '14px system-ui, sans-serif';

/** Throughput over time on a canvas, from the job's samples plus live progress rates. */
export class ThroughputChart {
  private samples: Array<[number, number]> = [];
  private readonly frame = new FrameRequest(() => this.draw());
  /** The box's width from ResizeObserver (no layout read while drawing). */
  private width = 300;

  constructor(private readonly canvas: HTMLCanvasElement) {
    new ResizeObserver((entries) => {
      this.width = Math.max(120, entries[0]?.contentRect.width ?? this.width);
      this.request();
    }).observe(canvas.parentElement ?? canvas);
  }

  reset(samples: Array<[number, number]>): void {
    this.samples = samples.filter((s) => Number.isFinite(s[0]) && Number.isFinite(s[1])).slice(-WINDOW_SECONDS / SAMPLE_SECONDS);
    this.request();
  }

  /** A live rate from a progress message, kept at the daemon's sampling interval. */
  addLive(rate: number, nowSeconds = Date.now() / 1000): void {
    const last = this.samples[this.samples.length - 1];
    if (last && nowSeconds - last[0] < SAMPLE_SECONDS) return;
    this.samples.push([nowSeconds, rate]);
    const cutoff = nowSeconds - WINDOW_SECONDS;
    while (this.samples.length && this.samples[0]![0] < cutoff) this.samples.shift();
    this.request();
  }

  private request(): void {
    this.frame.request();
  }

  private draw(): void {
    const width = this.width;
    const ctx = fitCanvas(this.canvas, width, HEIGHT);
    ctx.clearRect(0, 0, width, HEIGHT);
    const peak = Math.max(1, ...this.samples.map((s) => s[1]));
    this.drawAxes(ctx, width, peak);
    this.drawLine(ctx, width, peak);
    const latest = this.samples[this.samples.length - 1]?.[1] ?? 0;
    const label = this.samples.length
      ? `Throughput: now ${formatRate(latest)}, peak ${formatRate(peak)}, ${this.samples.length} samples`
      : 'Throughput: no samples yet';
    setAttr(this.canvas, 'aria-label', label);
  }

  private drawAxes(ctx: CanvasRenderingContext2D, width: number, peak: number): void {
    ctx.font = FONT;
    ctx.fillStyle = '#1f2328';
    ctx.strokeStyle = '#d0d7de';
    ctx.textBaseline = 'middle';
    for (const fraction of [0, 0.5, 1]) {
      const y = this.y(fraction * peak, peak);
      ctx.beginPath();
      ctx.moveTo(AXIS, y);
      ctx.lineTo(width, y);
      ctx.stroke();
      ctx.fillText(fraction === 0 ? '0' : formatRate(fraction * peak), 0, y);
    }
  }

  private drawLine(ctx: CanvasRenderingContext2D, width: number, peak: number): void {
    if (this.samples.length < 1) return;
    const t0 = this.samples[0]![0];
    const span = Math.max(SAMPLE_SECONDS, this.samples[this.samples.length - 1]![0] - t0);
    const x = (t: number) => AXIS + ((t - t0) / span) * (width - AXIS - 4);
    ctx.strokeStyle = '#0550ae';
    ctx.lineWidth = 2;
    ctx.beginPath();
    this.samples.forEach(([t, rate], i) => (i ? ctx.lineTo(x(t), this.y(rate, peak)) : ctx.moveTo(x(t), this.y(rate, peak))));
    ctx.stroke();
    ctx.lineWidth = 1;
  }

  private y(rate: number, peak: number): number {
    return HEIGHT - 10 - (rate / peak) * (HEIGHT - 20);
  }
}
