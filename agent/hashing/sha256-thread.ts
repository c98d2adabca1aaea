import { Worker } from 'node:worker_threads';
import type { DigestKind } from './content-digest.js';
import { LinearSha256 } from './linear-sha256.js';

/**
 * The hashing thread's whole program (CommonJS, run with `eval`, so it needs no file beside the build).
 * Zero runs arrive as lengths and are hashed here from a constant buffer; data arrives in slots of one
 * SharedArrayBuffer whose numbers go straight back for reuse. Slots, not transferred ArrayBuffers: each
 * transfer made a new ArrayBuffer in the receiving thread, which V8 counts as newly allocated external
 * memory, so hashing 1 GiB "allocated" 2 GiB and drove full mark-compacts on the main thread.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
${LinearSha256.toString()}
const linear = workerData.kind === 'sha256-linear-512k' ? new LinearSha256() : undefined;
const hash = linear ?? createHash('sha256');
const slots = new Uint8Array(workerData.memory);
const ZEROS = Buffer.alloc(1 << 20);
parentPort.on('message', (m) => {
  if (m.zeros !== undefined) {
    if (linear) linear.zeros(m.zeros);
    else for (let left = m.zeros; left > 0; left -= ZEROS.length) hash.update(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left));
  } else if (m.slot !== undefined) {
    hash.update(slots.subarray(m.slot * workerData.slotBytes, m.slot * workerData.slotBytes + m.length));
    parentPort.postMessage({ back: m.slot });
  } else if (m.digest) {
    parentPort.postMessage({ digest: hash.digest('hex') });
  }
});
`;

/**
 * One content digest (a SHA-256, or by default the sha256-linear-512k whose zero blocks cost nothing)
 * computed on its own thread, fed in order. A source's full SHA-256 covers its whole virtual
 * size, zeros included: ~0.75 CPU-s per GB with SHA-NI, which on the main thread was the serial
 * bottleneck of a conversion (4.9 of its 7 busy seconds on the 4 GiB bench disk) while the pool's
 * threads waited. Memory: `buffers` × `bufferBytes`, reused; `update` waits for a free one, which is
 * the hash's backpressure on its feeder.
 */
export class Sha256Thread {
  private readonly worker: Worker;
  private readonly memory: SharedArrayBuffer;
  private readonly idle: number[];
  private readonly waiting: Array<{ resolve: (slot: number) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  private finished: { resolve: (hex: string) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly bufferBytes = 4 * 1024 * 1024,
    buffers = 3,
    readonly kind: DigestKind = 'sha256',
  ) {
    this.memory = new SharedArrayBuffer(bufferBytes * buffers);
    this.idle = Array.from({ length: buffers }, (_, i) => i);
    this.worker = new Worker(PROGRAM, { eval: true, workerData: { kind, memory: this.memory, slotBytes: bufferBytes } });
    this.worker.unref();
    this.worker.on('message', (m: { back?: number; digest?: string }) => {
      if (m.back !== undefined) this.giveBack(m.back);
      else if (m.digest !== undefined) this.finished?.resolve(m.digest);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the SHA-256 thread stopped')));
  }

  async update(data: Uint8Array): Promise<void> {
    for (let at = 0; at < data.length; at += this.bufferBytes) {
      const piece = data.subarray(at, Math.min(data.length, at + this.bufferBytes));
      const slot = await this.acquire();
      new Uint8Array(this.memory, slot * this.bufferBytes, piece.length).set(piece);
      this.worker.postMessage({ slot, length: piece.length });
    }
  }

  zeros(length: number): void {
    if (this.failure) throw this.failure;
    if (length > 0) this.worker.postMessage({ zeros: length });
  }

  /** The hex digest (of `kind`) of everything fed, once the thread has caught up; the thread then ends. */
  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    const result = new Promise<string>((resolve, reject) => (this.finished = { resolve, reject }));
    this.worker.postMessage({ digest: true });
    return result.finally(() => void this.close());
  }

  close(): Promise<void> {
    return this.worker.terminate().then(() => undefined);
  }

  private acquire(): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.idle.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private giveBack(slot: number): void {
    const next = this.waiting.shift();
    if (next) next.resolve(slot);
    else this.idle.push(slot);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
    this.finished?.reject(this.failure);
  }
}
