/**
 * Collects "this job changed" notes between frames and renders them once per animation frame,
 * so 200 jobs × 4 progress messages a second cost one DOM pass per frame, not one per message.
 * Each pass is wrapped in performance marks ("vmxfer:frame") so tests and operators can read the cost.
 */
export class FrameBatcher {
  private dirty = new Set<string>();
  private all = false;
  private pending = false;

  constructor(private readonly render: (dirty: ReadonlySet<string>, all: boolean) => void) {}

  mark(id: string): void {
    this.dirty.add(id);
    this.request();
  }

  markAll(): void {
    this.all = true;
    this.request();
  }

  private request(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.pending = false;
    const dirty = this.dirty;
    const all = this.all;
    this.dirty = new Set();
    this.all = false;
    measureFrame('vmxfer:frame', () => this.render(dirty, all));
  }
}

/** Most user-timing entries kept per name; older ones are dropped so a page open for days stays small. */
const MAX_ENTRIES = 2000;

export function measureFrame(name: string, work: () => void): void {
  const start = `${name}:start`;
  performance.mark(start);
  try {
    work();
  } finally {
    performance.measure(name, start);
    performance.clearMarks(start);
    if (performance.getEntriesByName(name, 'measure').length > MAX_ENTRIES) performance.clearMeasures(name);
  }
}
