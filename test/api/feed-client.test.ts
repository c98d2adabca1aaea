import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { COALESCE_BYTES, DROP_BYTES, FeedClient } from '../../agent/api/feed-client.js';

/** A socket whose unsent byte count the test sets: the thresholds are about that number only. */
function fakeSocket() {
  const sent: any[] = [];
  const s = { bufferedAmount: 0, closedWith: 0, send: (t: string) => sent.push(JSON.parse(t)), close: (c: number) => (s.closedWith = c), terminate: () => undefined };
  return { s, sent, ws: s as unknown as WebSocket };
}

const progress = (bytesRead: number) => ({ bytesRead, totalBytes: 100, bytesWritten: 0, rate: 0, etaSeconds: null, partsDone: 0, partsInFlight: 0, partsTotal: null, partSize: 0 });

test('below 1 MiB unsent every message goes out; above it only the latest per job is kept, then flushed', () => {
  const { s, sent, ws } = fakeSocket();
  let coalesced = 0;
  const c = new FeedClient(ws, () => coalesced++, () => assert.fail('not dropped'));
  c.offer({ type: 'progress', id: 'a', progress: progress(1) });
  assert.equal(sent.length, 1);
  s.bufferedAmount = COALESCE_BYTES + 1;
  for (let i = 2; i <= 1000; i++) c.offer({ type: 'progress', id: 'a', progress: progress(i) });
  c.offer({ type: 'parts', id: 'a', parts: [{ n: 1, state: 'in-flight' }] });
  c.offer({ type: 'parts', id: 'a', parts: [{ n: 1, state: 'done' }, { n: 2, state: 'in-flight' }] });
  c.flush();
  assert.equal(sent.length, 1, 'nothing sent while the socket is full');
  assert.equal(coalesced, 1001);
  s.bufferedAmount = 0;
  c.flush();
  assert.deepEqual(sent.slice(1), [
    { type: 'parts', id: 'a', parts: [{ n: 1, state: 'done' }, { n: 2, state: 'in-flight' }] },
    { type: 'progress', id: 'a', progress: progress(1000) },
  ]);
  c.offer({ type: 'progress', id: 'a', progress: progress(1001) });
  assert.equal(sent.length, 4, 'direct sending resumes once drained');
});

test('past 8 MiB unsent the client is closed with 4408 and nothing more is queued for it', () => {
  const { s, sent, ws } = fakeSocket();
  let dropped = 0;
  const c = new FeedClient(ws, () => undefined, () => dropped++);
  s.bufferedAmount = DROP_BYTES + 1;
  c.offer({ type: 'progress', id: 'a', progress: progress(1) });
  c.offer({ type: 'progress', id: 'a', progress: progress(2) });
  assert.equal(s.closedWith, 4408);
  assert.equal(dropped, 1);
  assert.equal(sent.length, 0);
});

test('a slow client keeps only the latest agents list, sent once the socket has drained', () => {
  const { s, sent, ws } = fakeSocket();
  const c = new FeedClient(ws, () => undefined, () => assert.fail('not dropped'));
  const agents = (running: number) => [{ name: 'a1', version: '1', lastHeartbeat: '2026-12-07T20:00:00.000Z', runningJobs: running, freeSlots: 4 - running, state: 'ready' as const }];
  s.bufferedAmount = COALESCE_BYTES + 1;
  for (let i = 0; i < 4; i++) c.offer({ type: 'agents', agents: agents(i) });
  c.flush();
  assert.equal(sent.length, 0, 'nothing sent while the socket is full');
  s.bufferedAmount = 0;
  c.flush();
  assert.deepEqual(sent, [{ type: 'agents', agents: agents(3) }]);
  c.flush();
  assert.equal(sent.length, 1, 'the kept list goes out once');
});
