import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { vmxError } from '../../core/errors.js';
import { fsError } from '../../io/random-access-file.js';
import { STORE } from '../error-codes.js';
import type { UploadOptions } from '../object-sink.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readJsonState, writeJsonState } from './json-state.js';
import { UPLOADS_DIR } from './key-path.js';

export interface UploadManifest {
  key: string;
  uploadId: string;
  initiated: string;
  options: UploadOptions;
}

export interface StagedPart {
  partNumber: number;
  /** MD5 hex of the part body: what S3 returns as the part ETag. */
  md5Hex: string;
  size: number;
  path: string;
  mtimeNs: bigint;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
/** `<part number, 5 digits>.<md5 hex>.part`: the name records the MD5 atomically with the data. */
const PART_NAME = /^(\d{5})\.([0-9a-f]{32})\.part$/;
const MANIFEST = 'upload.json';

/**
 * The staging directories that emulate S3 multipart uploads on a local filesystem:
 * `<bucket>/.vmxfer-uploads/<uploadId>/upload.json` plus one file per uploaded part.
 */
export class UploadStaging {
  constructor(private readonly root: string) {}

  private get base(): string {
    return join(this.root, UPLOADS_DIR);
  }

  private dir(uploadId: string, key: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw noSuchUpload(this.root, key, uploadId);
    return join(this.base, uploadId);
  }

  async create(key: string, options: UploadOptions): Promise<string> {
    const uploadId = randomBytes(16).toString('hex');
    const dir = join(this.base, uploadId);
    await mkdir(dir, { recursive: true }).catch((err) => {
      throw fsError(err, dir);
    });
    const manifest: UploadManifest = { key, uploadId, initiated: new Date().toISOString(), options };
    await writeJsonState(join(dir, MANIFEST), manifest);
    return uploadId;
  }

  /** The upload's manifest; NoSuchUpload when it is unknown or belongs to another key. */
  async load(key: string, uploadId: string): Promise<UploadManifest> {
    const manifest = await readJsonState<UploadManifest>(join(this.dir(uploadId, key), MANIFEST));
    if (!manifest || manifest.key !== key) throw noSuchUpload(this.root, key, uploadId);
    return manifest;
  }

  /** Stores one part: temporary file, fsync, rename to its final name, fsync of the directory. */
  async writePart(key: string, uploadId: string, partNumber: number, body: Buffer, md5Hex: string): Promise<void> {
    const dir = this.dir(uploadId, key);
    const path = join(dir, `${String(partNumber).padStart(5, '0')}.${md5Hex}.part`);
    try {
      await writeFileAtomic(path, body, { createDirs: false });
    } catch (err) {
      // The staging directory is gone: the upload was aborted or completed meanwhile.
      if (((err as { cause?: NodeJS.ErrnoException }).cause)?.code === 'ENOENT') throw noSuchUpload(this.root, key, uploadId);
      throw err;
    }
  }

  /** The newest copy of each part number (a re-upload replaces a part, as in S3), ascending. */
  async parts(key: string, uploadId: string): Promise<StagedPart[]> {
    const dir = this.dir(uploadId, key);
    const newest = new Map<number, StagedPart>();
    for (const name of await this.names(dir, key, uploadId)) {
      const m = PART_NAME.exec(name);
      if (!m) continue;
      const path = join(dir, name);
      const st = await stat(path, { bigint: true }).catch(() => undefined);
      if (!st) continue;
      const part: StagedPart = { partNumber: Number(m[1]), md5Hex: m[2]!, size: Number(st.size), path, mtimeNs: st.mtimeNs };
      const seen = newest.get(part.partNumber);
      if (!seen || part.mtimeNs > seen.mtimeNs) newest.set(part.partNumber, part);
    }
    return [...newest.values()].sort((a, b) => a.partNumber - b.partNumber);
  }

  async remove(key: string, uploadId: string): Promise<void> {
    const dir = this.dir(uploadId, key);
    await rm(dir, { recursive: true, force: true }).catch((err) => {
      throw fsError(err, dir);
    });
  }

  /** Every pending upload's manifest (unreadable or half-created staging directories are skipped). */
  async list(): Promise<UploadManifest[]> {
    let ids: string[];
    try {
      ids = await readdir(this.base);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fsError(err, this.base);
    }
    const out: UploadManifest[] = [];
    for (const id of ids.filter((x) => UPLOAD_ID.test(x))) {
      const manifest = await readJsonState<UploadManifest>(join(this.base, id, MANIFEST)).catch(() => undefined);
      if (manifest?.uploadId === id) out.push(manifest);
    }
    return out;
  }

  private async names(dir: string, key: string, uploadId: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw noSuchUpload(this.root, key, uploadId);
      throw fsError(err, dir);
    }
  }
}

function noSuchUpload(root: string, key: string, uploadId: string) {
  return vmxError(STORE.NO_SUCH_UPLOAD, `no multipart upload "${uploadId}" of key "${key}" is pending (completed, aborted or never created)`, { file: root });
}
