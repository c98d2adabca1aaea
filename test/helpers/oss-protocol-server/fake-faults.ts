/**
 * Fault injection for the OSS protocol fake: tests queue faults that the next matching requests
 * receive instead of normal service.
 */

export type FakeFault =
  /** Answer with an OSS error document (e.g. 503 ServerBusy) without touching the store. */
  | { kind: 'error'; status: number; code: string; message?: string }
  /** Hold the request this long before serving it normally. */
  | { kind: 'delay'; ms: number }
  /** Destroy the connection without answering (a connection reset as the client sees it). */
  | { kind: 'reset' }
  /** Flip the first body byte as if it were corrupted in transit, then serve normally. */
  | { kind: 'corrupt' }
  /** Serve normally, then overwrite one response header (a misbehaving store or proxy). */
  | { kind: 'header'; name: string; value: string };

interface QueuedFault {
  fault: FakeFault;
  remaining: number;
  /** Only requests whose operation name matches, e.g. 'UploadPart'; any when undefined. */
  operation: string | undefined;
}

export class FakeFaults {
  private queue: QueuedFault[] = [];

  /** The next `count` requests (of `operation`, if given) receive `fault`. */
  inject(fault: FakeFault, count = 1, operation?: string): void {
    this.queue.push({ fault, remaining: count, operation });
  }

  /** Convenience: the next `count` requests answer 503 ServerBusy, as a throttled OSS does. */
  serverBusy(count = 1, operation?: string): void {
    this.inject({ kind: 'error', status: 503, code: 'ServerBusy', message: 'Please reduce your request rate.' }, count, operation);
  }

  clear(): void {
    this.queue = [];
  }

  /** Takes the fault for a request of `operation`, if one is queued for it. */
  take(operation: string): FakeFault | undefined {
    const q = this.queue.find((f) => f.operation === undefined || f.operation === operation);
    if (!q) return undefined;
    q.remaining -= 1;
    if (q.remaining <= 0) this.queue.splice(this.queue.indexOf(q), 1);
    return q.fault;
  }
}
