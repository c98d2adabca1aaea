import { readFile, unlink, readdir } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic-write.js';
import { join } from 'node:path';
import { vmxError } from '../core/errors.js';
import { TRANSFER } from '../transfer/error-codes.js';
import { fsError } from '../io/random-access-file.js';

/**
 * Persists transfer progress. Each save is atomic and durable (temp file, fsync, rename, fsync of
 * the directory), so a crash or kill -9 leaves either the previous checkpoint or the new one.
 */
export interface CheckpointStore<T extends { id: string }> {
  load(id: string): Promise<T | undefined>;
  save(cp: T): Promise<void>;
  delete(id: string): Promise<void>;
  list(): Promise<T[]>;
}

export class FileCheckpointStore<T extends { id: string }> implements CheckpointStore<T> {
  /** Saves of one id are serialised so an older state can never overwrite a newer one. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    readonly dir: string,
    private readonly validate: (x: unknown) => x is T,
    private readonly onSave?: (seconds: number) => void,
  ) {}

  private path(id: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new Error(`invalid checkpoint id ${id}`);
    return join(this.dir, `${id}.json`);
  }

  async load(id: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fsError(err, this.path(id));
    }
    return this.parse(text, this.path(id));
  }

  private parse(text: string, file: string): T {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw vmxError(TRANSFER.CHECKPOINT_CORRUPT, `checkpoint is not valid JSON`, { file, cause: err });
    }
    if (!this.validate(value)) throw vmxError(TRANSFER.CHECKPOINT_CORRUPT, `checkpoint does not have the expected fields`, { file });
    return value;
  }

  save(cp: T): Promise<void> {
    const prev = this.chains.get(cp.id) ?? Promise.resolve();
    const body = JSON.stringify(cp);
    const next = prev.catch(() => undefined).then(() => this.write(cp.id, body));
    this.chains.set(cp.id, next);
    return next;
  }

  private async write(id: string, body: string): Promise<void> {
    const t0 = performance.now();
    await writeFileAtomic(this.path(id), body, { mode: 0o600 });
    this.onSave?.((performance.now() - t0) / 1000);
  }

  async delete(id: string): Promise<void> {
    await this.chains.get(id)?.catch(() => undefined);
    this.chains.delete(id);
    await unlink(this.path(id)).catch((err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, this.path(id));
    });
  }

  async list(): Promise<T[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: T[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      const cp = await this.load(n.slice(0, -5)).catch(() => undefined);
      if (cp) out.push(cp);
    }
    return out;
  }
}
