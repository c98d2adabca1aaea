import { FileJobStore } from '../../agent/jobs/file-job-store.js';
import { newRecord } from './job-record-fixture.js';

/**
 * Child of the kill -9 test: creates jobs in the FileJobStore at argv[2] and moves each to version 2,
 * printing `<id> <version>` once each write has resolved (so is durable), until it is killed.
 */
const store = await FileJobStore.open(process.argv[2]!);
for (;;) {
  const rec = await store.create(newRecord());
  process.stdout.write(`${rec.id} ${rec.version}\n`);
  const next = await store.update(rec.id, rec.version, { ...rec, progress: { ...rec.progress, bytesRead: 1 } });
  process.stdout.write(`${next.id} ${next.version}\n`);
}
