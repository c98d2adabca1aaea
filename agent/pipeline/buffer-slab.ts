import { abortedError } from '../core/abort.js';

const WASM_PAGE = 65536;

/**
 * A fixed set of equal, page-aligned slots in one shared memory that worker threads see without
 * copies: a shared WebAssembly.Memory is a page-aligned mapping, unlike Buffer.allocUnsafe whose
 * data starts a few bytes into a page. `acquire` waits for a free slot, which is how a full
 * pipeline holds back the reader; memory is slots × slotSize, whatever the disk size.
 */
export class BufferSlab {
  readonly memory: SharedArrayBuffer;
  private readonly free: number[] = [];
  private readonly waiters: Array<(slot: number) => void> = [];

  constructor(
    readonly slots: number,
    readonly slotSize: number,
  ) {
    const pages = Math.ceil((slots * slotSize) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer as unknown as SharedArrayBuffer;
    for (let i = 0; i < slots; i++) this.free.push(i);
  }

  view(slot: number, length = this.slotSize): Buffer {
    return Buffer.from(this.memory, slot * this.slotSize, length);
  }

  async acquire(signal?: AbortSignal): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => reject(abortedError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push((s) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(s);
      });
    });
  }

  release(slot: number): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(slot);
    else this.free.push(slot);
  }

  get inUse(): number {
    return this.slots - this.free.length;
  }
}
