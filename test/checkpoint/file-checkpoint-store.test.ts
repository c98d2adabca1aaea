import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { checkpointStoreConformance, isTick, type Tick } from './checkpoint-store-conformance.js';

checkpointStoreConformance('FileCheckpointStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmxfer-checkpoints-'));
  return {
    store: new FileCheckpointStore<Tick>(dir, isTick),
    reopen: async () => new FileCheckpointStore<Tick>(dir, isTick),
    corrupt: (id) => writeFile(join(dir, `${id}.json`), '{"id": "bad", "par'),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});
