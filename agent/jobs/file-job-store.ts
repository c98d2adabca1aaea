import { EventEmitter } from 'node:events';
import { vmxError } from '../core/errors.js';
import { FileCheckpointStore } from '../checkpoint/checkpoint-store.js';
import { admit } from './admission.js';
import { JOB } from './error-codes.js';
import { isStoredJobRecord, migrateJobRecord } from './job-record-migration.js';
import type { AdmissionLimits, JobChange, JobRecordPatch, JobStore, RecoveredJob } from './job-store.js';
import { JOB_SCHEMA, TERMINAL_STATES, type JobRecord, type JobState } from './job-types.js';

/**
 * The JobStore of one daemon: one JSON file per job in `dir`, each write atomic and durable (temp
 * file, fsync, rename, fsync of the directory), so a kill -9 leaves the previous record or the new
 * one. The records are also held in memory, where every check-and-set happens synchronously: that is
 * what makes claim and compare-and-set atomic within the one process that owns the directory.
 */
export class FileJobStore implements JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly events = new EventEmitter<{ change: [JobChange] }>();
  private readonly writes = new Set<Promise<unknown>>();
  /** Owners that claimed through this instance: any other owner found in the records is gone. */
  private readonly owners = new Set<string>();

  private constructor(private readonly files: FileCheckpointStore<JobRecord>) {}

  /** Reads every record in `dir`, older schemas migrated; unreadable files are left alone. */
  static async open(dir: string, onSave?: (seconds: number) => void): Promise<FileJobStore> {
    const store = new FileJobStore(new FileCheckpointStore<JobRecord>(dir, isStoredJobRecord, onSave));
    for (const raw of await store.files.list()) {
      const rec = migrateJobRecord(raw)!;
      store.records.set(rec.id, rec);
    }
    return store;
  }

  async create(record: JobRecordPatch & { id: string }): Promise<JobRecord> {
    if (this.records.has(record.id)) throw vmxError(JOB.DUPLICATE_ID, `a job ${record.id} already exists`);
    return this.write({ ...record, schema: JOB_SCHEMA, version: 1 });
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const rec = this.records.get(id);
    return rec && structuredClone(rec);
  }

  async list(states?: ReadonlySet<JobState>): Promise<JobRecord[]> {
    return this.sorted().filter((r) => !states || states.has(r.state)).map((r) => structuredClone(r));
  }

  async claim(owner: string, limits: AdmissionLimits): Promise<JobRecord[]> {
    this.owners.add(owner);
    const taken = admit(this.sorted(), limits).map((r) => this.next(r, { state: 'validating', owner, agent: limits.agent ?? null }));
    return Promise.all(taken.map((r) => this.write(r)));
  }

  async update(id: string, expectedVersion: number, next: JobRecordPatch): Promise<JobRecord> {
    const cur = this.current(id);
    if (cur.version !== expectedVersion) {
      throw vmxError(JOB.CONFLICT, `job ${id} is at version ${cur.version}, the writer read version ${expectedVersion}`);
    }
    return this.write({ ...next, id, schema: JOB_SCHEMA, version: cur.version + 1 });
  }

  async requestCancel(id: string): Promise<JobRecord> {
    const cur = this.current(id);
    if (TERMINAL_STATES.has(cur.state)) throw vmxError(JOB.NOT_CANCELLABLE, `job ${id} is already ${cur.state}`);
    if (cur.state === 'cancelling') return structuredClone(cur);
    return this.write(this.next(cur, { state: 'cancelling' }));
  }

  async recover(): Promise<RecoveredJob[]> {
    const orphans = this.sorted().filter((r) => this.orphaned(r));
    const out = orphans.map((r) => ({ id: r.id, was: r.state }));
    await Promise.all(orphans.map((r) => this.write(this.next(r, r.state === 'cancelling' ? { owner: null } : { state: 'queued', owner: null, phase: null }))));
    return out;
  }

  async remove(id: string): Promise<void> {
    if (!this.records.delete(id)) return;
    await this.track(this.files.delete(id));
    this.events.emit('change', { type: 'removed', id });
  }

  subscribe(listener: (change: JobChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  /** Started and owned by nobody alive here (a schema-1 record has no owner at all), or cancelling for a dead owner. */
  private orphaned(r: JobRecord): boolean {
    const dead = r.owner === null || !this.owners.has(r.owner);
    if (r.state === 'validating' || r.state === 'active' || r.state === 'waiting') return dead;
    return r.state === 'cancelling' && r.owner !== null && dead;
  }

  private current(id: string): JobRecord {
    const cur = this.records.get(id);
    if (!cur) throw vmxError(JOB.NOT_FOUND, `no job ${id}`);
    return cur;
  }

  private next(cur: JobRecord, patch: Partial<JobRecord>): JobRecord {
    return { ...structuredClone(cur), ...patch, version: cur.version + 1 };
  }

  /** Holds the record at once (later checks see it), resolves once it is durable, then announces it. */
  private async write(rec: JobRecord): Promise<JobRecord> {
    const copy = structuredClone(rec);
    this.records.set(rec.id, copy);
    await this.track(this.files.save(copy));
    this.events.emit('change', { type: 'put', record: structuredClone(copy) });
    return structuredClone(copy);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p)).catch(() => undefined);
    return p;
  }

  private sorted(): JobRecord[] {
    return [...this.records.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}
