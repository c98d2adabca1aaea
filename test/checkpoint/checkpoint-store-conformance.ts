import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';

/** What the contract stores: an id and a growing counter (a checkpoint's confirmed parts, in short). */
export interface Tick {
  id: string;
  parts: number[];
}

export function isTick(x: unknown): x is Tick {
  const t = x as Tick;
  return typeof t === 'object' && t !== null && typeof t.id === 'string' && Array.isArray(t.parts);
}

export interface CheckpointStoreUnderTest {
  store: CheckpointStore<Tick>;
  /** A second store over the same backing: another process, or the agent that takes a job over. */
  reopen(): Promise<CheckpointStore<Tick>>;
  /** Puts bytes that are no checkpoint where the checkpoint `id` would be. */
  corrupt(id: string): Promise<void>;
  dispose(): Promise<void>;
}

/** The CheckpointStore contract (agent/checkpoint/checkpoint-store.ts); every implementation runs it. */
export function checkpointStoreConformance(name: string, open: () => Promise<CheckpointStoreUnderTest>): void {
  const withStore = (title: string, fn: (s: CheckpointStoreUnderTest) => Promise<void>) =>
    test(`CheckpointStore conformance (${name}): ${title}`, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.dispose();
      }
    });

  withStore('a saved checkpoint reads back, from another store on the same backing too; an unknown id is undefined', async (s) => {
    assert.equal(await s.store.load('up-1'), undefined);
    await s.store.save({ id: 'up-1', parts: [1, 2, 3] });
    assert.deepEqual(await s.store.load('up-1'), { id: 'up-1', parts: [1, 2, 3] });
    assert.deepEqual(await (await s.reopen()).load('up-1'), { id: 'up-1', parts: [1, 2, 3] });
  });

  withStore('saves of one id land in call order: 200 saves not awaited one by one leave the last', async (s) => {
    const saves = Array.from({ length: 200 }, (_, i) => s.store.save({ id: 'up-2', parts: Array.from({ length: i + 1 }, (_, j) => j + 1) }));
    await Promise.all(saves);
    assert.equal((await (await s.reopen()).load('up-2'))?.parts.length, 200);
  });

  withStore('delete removes for good (after the saves queued before it); list holds every checkpoint once', async (s) => {
    await s.store.save({ id: 'a', parts: [] });
    await s.store.save({ id: 'b', parts: [1] });
    void s.store.save({ id: 'c', parts: [1, 2] });
    await s.store.delete('c');
    await s.store.delete('never-saved');
    assert.equal(await s.store.load('c'), undefined);
    assert.deepEqual((await (await s.reopen()).list()).map((t) => t.id).sort(), ['a', 'b']);
  });

  withStore('a damaged checkpoint: load names it with XFER_CHECKPOINT_CORRUPT, list leaves it out', async (s) => {
    await s.store.save({ id: 'ok', parts: [1] });
    await s.corrupt('bad');
    await assert.rejects(s.store.load('bad'), (e: { code?: string; file?: string }) => e.code === 'XFER_CHECKPOINT_CORRUPT' && typeof e.file === 'string' && e.file.includes('bad'));
    assert.deepEqual((await s.store.list()).map((t) => t.id), ['ok']);
  });
}
