import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { pacedBody } from '../../agent/sinks/paced-body.js';
import type { BodyPacer } from '../../agent/sinks/object-sink.js';

test('paced body: slices of at most sliceBytes, one take each, the whole buffer in order', async () => {
  const takes: number[] = [];
  const pacer: BodyPacer = { sliceBytes: 7, take: async (n) => void takes.push(n) };
  const body = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
  const chunks: Buffer[] = [];
  for await (const c of pacedBody(body, pacer)) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(body));
  assert.deepEqual(takes, [7, 7, 7, 7, 7, 5]);
});

test('paced body: a take that fails (its signal aborted, which aborts the request too) ends the stream without an error no one would hear', async () => {
  const ac = new AbortController();
  const pacer: BodyPacer = {
    sliceBytes: 4,
    take: (_n, signal) => new Promise<void>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')))),
  };
  const stream = pacedBody(Buffer.alloc(16), pacer, ac.signal);
  stream.resume();
  setTimeout(() => ac.abort(), 20);
  await once(stream, 'close');
  // An error here would be emitted with no 'error' listener: an uncaught exception in the daemon.
  assert.equal(stream.errored, null);
});
