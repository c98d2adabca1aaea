import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentBeat, AgentDirectory } from '../../agent/fleet/agent-directory.js';

/** Directories under test: `open(scope)` gives one more directory; those of one scope share a backing. */
export interface DirectoriesUnderTest {
  open(scope: string): Promise<AgentDirectory>;
  dispose(): Promise<void>;
}

const beat = (name: string, over: Partial<AgentBeat> = {}): AgentBeat => ({ name, version: '1.2.3', runningJobs: 1, freeSlots: 3, state: 'ready', ...over });

/** The AgentDirectory contract (agent/fleet/agent-directory.ts); every implementation runs it. */
export function agentDirectoryConformance(name: string, make: () => Promise<DirectoriesUnderTest>): void {
  const withDirs = (title: string, fn: (d: DirectoriesUnderTest) => Promise<void>) =>
    test(`AgentDirectory conformance (${name}): ${title}`, async () => {
      const d = await make();
      try {
        await fn(d);
      } finally {
        await d.dispose();
      }
    });

  withDirs('a heartbeat lists the agent with its version, counts, state and the beat time; a later beat replaces them', async (d) => {
    const dir = await d.open('s');
    assert.deepEqual(await dir.list(), []);
    const t0 = Date.now();
    await dir.heartbeat(beat('a1'));
    const [first, ...rest] = await dir.list();
    assert.equal(rest.length, 0);
    assert.deepEqual({ ...first, lastHeartbeat: undefined }, { name: 'a1', version: '1.2.3', runningJobs: 1, freeSlots: 3, state: 'ready', lastHeartbeat: undefined });
    const at = Date.parse(first!.lastHeartbeat);
    assert.ok(at >= t0 - 5 && at <= Date.now() + 5, `lastHeartbeat ${first!.lastHeartbeat} is the beat's time`);
    await sleep(20);
    await dir.heartbeat(beat('a1', { runningJobs: 4, freeSlots: 0, state: 'stopping' }));
    const [second] = await dir.list();
    assert.equal(second!.runningJobs, 4);
    assert.equal(second!.freeSlots, 0);
    assert.equal(second!.state, 'stopping');
    assert.ok(Date.parse(second!.lastHeartbeat) > at, 'the later beat moved lastHeartbeat');
  });

  withDirs('an agent whose heartbeat expired is lost, and a beat brings it back', async (d) => {
    const dir = await d.open('s');
    await dir.heartbeat(beat('a1'), 200);
    assert.equal((await dir.list())[0]!.state, 'ready');
    await sleep(400);
    const [lost] = await dir.list();
    assert.equal(lost!.state, 'lost');
    assert.equal(lost!.runningJobs, 1, 'a lost agent keeps the counts of its last beat');
    await dir.heartbeat(beat('a1'), 5000);
    assert.equal((await dir.list())[0]!.state, 'ready');
  });

  withDirs('a clean stop leaves the agent listed as stopped, not lost; a leave of an unknown name changes nothing', async (d) => {
    const dir = await d.open('s');
    await dir.heartbeat(beat('a1'), 200);
    await dir.leave('a1');
    await dir.leave('nobody');
    await sleep(300);
    assert.deepEqual((await dir.list()).map((a) => [a.name, a.state]), [['a1', 'stopped']]);
  });

  withDirs('agents are listed by name', async (d) => {
    const dir = await d.open('s');
    for (const n of ['c', 'a', 'b']) await dir.heartbeat(beat(n));
    assert.deepEqual((await dir.list()).map((a) => a.name), ['a', 'b', 'c']);
  });

  withDirs('fleet: directories of one backing see each other\'s agents; alone: a directory knows only what it was told; never across backings', async (d) => {
    const [a, b, other] = [await d.open('s'), await d.open('s'), await d.open('t')];
    assert.equal(a.fleet, b.fleet);
    await a.heartbeat(beat('agent-a'));
    await b.heartbeat(beat('agent-b', { runningJobs: 2, freeSlots: 2 }));
    const seen = (await a.list()).map((x) => `${x.name}:${x.runningJobs}`);
    assert.deepEqual(seen, a.fleet ? ['agent-a:1', 'agent-b:2'] : ['agent-a:1']);
    assert.deepEqual(await other.list(), [], 'another backing sees none of them');
  });
}
