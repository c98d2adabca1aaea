import { Readable } from 'node:stream';
import type { BodyPacer } from './object-sink.js';

/**
 * A part body as a stream that yields one slice per `pacer.take`: it reads the next slice only when
 * the consumer (the HTTP request) asks for more, so the socket's backpressure and the pacer's rate
 * both hold. A fresh stream per attempt: a retried part re-reads its buffer from the start.
 */
export function pacedBody(body: Buffer, pacer: BodyPacer, signal?: AbortSignal): Readable {
  let offset = 0;
  return new Readable({
    highWaterMark: pacer.sliceBytes,
    read() {
      if (offset >= body.length) {
        this.push(null);
        return;
      }
      const n = Math.min(pacer.sliceBytes, body.length - offset);
      pacer.take(n, signal).then(
        () => {
          const slice = body.subarray(offset, offset + n);
          offset += n;
          this.push(slice);
          if (offset >= body.length) this.push(null);
        },
        // A take fails only when `signal` aborted, which aborts the request reading this stream too; an
        // error here would reach no listener (the request no longer reads) and crash the process.
        () => this.destroy(),
      );
    },
  });
}

/** Waits for `bytes` from the pacer a slice at a time, so one large charge does not hold the line for everyone else. */
export async function drawBytes(bytes: number, pacer: BodyPacer, signal?: AbortSignal): Promise<void> {
  for (let left = bytes; left > 0; left -= pacer.sliceBytes) await pacer.take(Math.min(left, pacer.sliceBytes), signal);
}
