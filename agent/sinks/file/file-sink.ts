import { createHash } from 'node:crypto';
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import { fsError } from '../../io/random-access-file.js';
import { STORE } from '../error-codes.js';
import type { BodyPacer, DamagedPartSender, ListedObject, ObjectInfo, ObjectSink, ObjectTagReader, PartCopySource, PartRef, PendingUpload, SinkCapabilities, StoreLimits, UploadOptions } from '../object-sink.js';
import { checkCompleteOrder, checkPartShape, checkRange, multipartEtag, partMd5 } from '../part-rules.js';
import { S3_LIMITS } from '../store-limits.js';
import { drawBytes } from '../paced-body.js';
import { syncDirectory, tempSibling } from '../../io/atomic-write.js';
import { readJsonState, writeJsonState } from './json-state.js';
import { keyToPath, metaPath } from './key-path.js';
import { walkObjects } from './list-objects.js';
import { UploadStaging, type StagedPart } from './upload-staging.js';

/** What S3 keeps beside an object's bytes, kept here in `<bucket>/.vmxfer-meta/<key>.json`. */
interface ObjectMeta {
  etag: string;
  size: number;
  mtimeMs: number;
  options: UploadOptions;
}

const COPY_CHUNK = 4 * 1024 * 1024;

/**
 * An ObjectSink over a local directory (`file:///dir/key`): the bucket is the directory, keys are
 * relative paths. Multipart uploads are emulated with the semantics and limits of S3, so the
 * transfer engine and its resume logic behave the same against a disk and a cloud.
 */
export class FileSink implements ObjectSink, ObjectTagReader, DamagedPartSender {
  readonly kind = 'file' as const;
  /** The object's ETag is S3's multipart ETag; no whole-object CRC is reported. */
  readonly capabilities: SinkCapabilities = { partChecksum: 'md5', objectChecksum: undefined, multipartEtag: true };
  private readonly staging: UploadStaging;

  constructor(
    readonly bucket: string,
    readonly limits: StoreLimits = S3_LIMITS,
  ) {
    this.staging = new UploadStaging(bucket);
  }

  async createUpload(key: string, opts: UploadOptions, signal?: AbortSignal): Promise<string> {
    throwIfAborted(signal);
    keyToPath(this.bucket, key);
    await this.requireBucket();
    return this.staging.create(key, opts);
  }

  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef> {
    // The body's MD5 is computed once: the Content-MD5 sent and the one checked are the same value here.
    const md5 = partMd5(body);
    return this.storePart(key, uploadId, partNumber, body, md5.base64, md5, signal, pacer);
  }

  /** Stores a part only if its body matches the MD5 of `checksummed` (S3's Content-MD5 rule, BadDigest otherwise). */
  uploadDamagedPart(key: string, uploadId: string, partNumber: number, sent: Buffer, checksummed: Buffer, signal?: AbortSignal): Promise<PartRef> {
    return this.storePart(key, uploadId, partNumber, sent, partMd5(checksummed).base64, partMd5(sent), signal);
  }

  private async storePart(key: string, uploadId: string, partNumber: number, body: Buffer, md5Base64: string, md5: ReturnType<typeof partMd5>, signal?: AbortSignal, pacer?: BodyPacer): Promise<PartRef> {
    throwIfAborted(signal);
    checkPartShape(this.limits, partNumber, body.length, this.where(key));
    // No wire here: the part is written once all its slices were drawn.
    if (pacer) await drawBytes(body.length, pacer, signal);
    await this.staging.load(key, uploadId);
    if (md5.base64 !== md5Base64) {
      throw vmxError(STORE.BAD_DIGEST, `part ${partNumber}: Content-MD5 ${md5Base64} does not match the body's MD5 ${md5.base64}`, { file: this.where(key) });
    }
    await this.staging.writePart(key, uploadId, partNumber, body, md5.hex);
    return { partNumber, etag: md5.hex, size: body.length, checksums: { md5: md5.base64 } };
  }

  /**
   * S3 UploadPartCopy's equivalent: the range is read from the completed object in the bucket and
   * staged as the part, with the same preconditions (the source's ETag, the range inside it).
   */
  async copyPart(key: string, uploadId: string, partNumber: number, source: PartCopySource, signal?: AbortSignal): Promise<PartRef> {
    throwIfAborted(signal);
    checkRange(source.start, source.end, this.where(source.key));
    checkPartShape(this.limits, partNumber, source.end - source.start, this.where(key));
    await this.staging.load(key, uploadId);
    if (source.ifMatch !== undefined) {
      const info = await this.head(source.key, signal);
      if (!info) throw this.noSuchKey(source.key);
      if (info.etag !== source.ifMatch.replace(/"/g, '')) {
        throw vmxError(STORE.PRECONDITION_FAILED, `the copy source's ETag is ${info.etag}, not ${source.ifMatch}`, { file: this.where(source.key) });
      }
    }
    const body = await this.getRange(source.key, source.start, source.end, signal);
    const md5 = partMd5(body);
    await this.staging.writePart(key, uploadId, partNumber, body, md5.hex);
    return { partNumber, etag: md5.hex, size: body.length, checksums: { md5: md5.base64 } };
  }

  async listParts(key: string, uploadId: string, signal?: AbortSignal): Promise<PartRef[]> {
    throwIfAborted(signal);
    await this.staging.load(key, uploadId);
    const parts = await this.staging.parts(key, uploadId);
    return parts.map((p) => ({ partNumber: p.partNumber, etag: p.md5Hex, size: p.size }));
  }

  async completeUpload(key: string, uploadId: string, parts: PartRef[], signal?: AbortSignal): Promise<ObjectInfo> {
    throwIfAborted(signal);
    const target = keyToPath(this.bucket, key);
    const manifest = await this.staging.load(key, uploadId);
    checkCompleteOrder(parts, this.where(key));
    const staged = await this.matchStagedParts(key, uploadId, parts);
    const size = await this.concatenate(staged, target, signal);
    const etag = multipartEtag(staged.map((p) => p.md5Hex));
    const { mtimeMs } = await stat(target);
    await writeJsonState(metaPath(this.bucket, key), { etag, size, mtimeMs, options: manifest.options } satisfies ObjectMeta);
    await this.staging.remove(key, uploadId);
    return { key, size, etag, metadata: manifest.options.metadata ?? {} };
  }

  async abortUpload(key: string, uploadId: string, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    await this.staging.load(key, uploadId);
    await this.staging.remove(key, uploadId);
  }

  async listUploads(prefix: string, signal?: AbortSignal): Promise<PendingUpload[]> {
    throwIfAborted(signal);
    const all = await this.staging.list();
    return all
      .filter((m) => m.key.startsWith(prefix))
      .map((m) => ({ key: m.key, uploadId: m.uploadId, initiated: new Date(m.initiated) }))
      .sort((a, b) => (a.key === b.key ? a.initiated.getTime() - b.initiated.getTime() : a.key < b.key ? -1 : 1));
  }

  async head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    throwIfAborted(signal);
    const path = keyToPath(this.bucket, key);
    const st = await stat(path).catch((err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fsError(err, path);
    });
    if (!st?.isFile()) return undefined;
    const meta = await readJsonState<ObjectMeta>(metaPath(this.bucket, key));
    // A sidecar describes the file only while size and mtime still match; otherwise hash the bytes.
    const current = meta && meta.size === st.size && meta.mtimeMs === st.mtimeMs ? meta : undefined;
    const etag = current?.etag ?? (await md5OfFile(path, st.size, signal));
    return { key, size: st.size, etag, metadata: current?.options.metadata ?? {} };
  }

  /** A walk of the bucket directory; each ETag comes from head (the sidecar, or the bytes' MD5). */
  async *listObjects(prefix: string, signal?: AbortSignal): AsyncGenerator<ListedObject> {
    await this.requireBucket();
    for await (const entry of walkObjects(this.bucket, prefix, signal)) {
      const info = await this.head(entry.key, signal);
      if (info) yield { ...entry, size: info.size, etag: info.etag };
    }
  }

  async getTags(key: string, signal?: AbortSignal): Promise<Record<string, string>> {
    if (!(await this.head(key, signal))) throw this.noSuchKey(key);
    const meta = await readJsonState<ObjectMeta>(metaPath(this.bucket, key));
    return meta?.options.tags ?? {};
  }

  /**
   * Replaces the tags in the object's sidecar, as S3 PutObjectTagging replaces the tag set. An
   * object without a current sidecar (written by something else) gets one describing it now.
   */
  async putTags(key: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const info = await this.head(key, signal);
    if (!info) throw this.noSuchKey(key);
    const path = keyToPath(this.bucket, key);
    const { mtimeMs } = await stat(path).catch((err) => {
      throw fsError(err, path);
    });
    const meta = await readJsonState<ObjectMeta>(metaPath(this.bucket, key));
    const options = meta && meta.size === info.size && meta.mtimeMs === mtimeMs ? meta.options : {};
    await writeJsonState(metaPath(this.bucket, key), { etag: info.etag, size: info.size, mtimeMs, options: { ...options, tags } } satisfies ObjectMeta);
  }

  async getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<Buffer> {
    throwIfAborted(signal);
    const path = keyToPath(this.bucket, key);
    checkRange(start, end, this.where(key));
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw this.noSuchKey(key);
      throw fsError(err, path);
    }
    try {
      const { size } = await fh.stat();
      checkRange(start, end, this.where(key), size);
      const buf = Buffer.allocUnsafe(end - start);
      await readFully(fh, buf, start, path, signal);
      return buf;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async deleteObject(key: string, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    const path = keyToPath(this.bucket, key);
    // S3 DeleteObject succeeds for a missing key; so does this.
    for (const p of [path, metaPath(this.bucket, key)]) {
      await unlink(p).catch((err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, p);
      });
    }
  }

  /** The staged part for each reference; InvalidPart for a missing or stale one, EntityTooSmall for a short non-last one. */
  private async matchStagedParts(key: string, uploadId: string, parts: PartRef[]): Promise<StagedPart[]> {
    const staged = new Map((await this.staging.parts(key, uploadId)).map((p) => [p.partNumber, p]));
    return parts.map((ref, i) => {
      const part = staged.get(ref.partNumber);
      if (!part || part.md5Hex !== ref.etag.replace(/"/g, '')) {
        const why = part ? `its ETag is ${part.md5Hex}, not ${ref.etag}` : 'it was never uploaded';
        throw vmxError(STORE.INVALID_PART, `complete names part ${ref.partNumber} but ${why}`, { file: this.where(key) });
      }
      if (i < parts.length - 1 && part.size < this.limits.minPartSize) {
        throw vmxError(STORE.ENTITY_TOO_SMALL, `part ${ref.partNumber} has ${part.size} bytes; every part but the last needs at least ${this.limits.minPartSize}`, { file: this.where(key) });
      }
      return part;
    });
  }

  /** Joins the parts in order into a temporary file, fsyncs it and renames it over the target. */
  private async concatenate(parts: StagedPart[], target: string, signal?: AbortSignal): Promise<number> {
    await mkdir(dirname(target), { recursive: true }).catch((err) => {
      throw fsError(err, dirname(target));
    });
    const tmp = tempSibling(target);
    let out: FileHandle | undefined;
    try {
      out = await open(tmp, 'wx');
      const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, ...parts.map((p) => p.size))));
      let pos = 0;
      for (const part of parts) pos += await appendFile(out, part.path, pos, buf, signal);
      await out.sync();
      await out.close();
      out = undefined;
      await rename(tmp, target);
      await syncDirectory(dirname(target));
      return pos;
    } catch (err) {
      await out?.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  private async requireBucket(): Promise<void> {
    const st = await stat(this.bucket).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw vmxError(STORE.NO_SUCH_BUCKET, 'the bucket directory does not exist (create it first)', { file: this.bucket });
    }
  }

  private noSuchKey(key: string) {
    return vmxError(STORE.NO_SUCH_KEY, 'the object does not exist', { file: this.where(key) });
  }

  private where(key: string): string {
    return `${this.bucket}/${key}`;
  }
}

async function appendFile(out: FileHandle, src: string, at: number, buf: Buffer, signal?: AbortSignal): Promise<number> {
  let fh: FileHandle;
  try {
    fh = await open(src, 'r');
  } catch (err) {
    throw fsError(err, src);
  }
  try {
    const { size } = await fh.stat();
    for (let done = 0; done < size; ) {
      throwIfAborted(signal);
      const n = Math.min(buf.length, size - done);
      await readFully(fh, buf.subarray(0, n), done, src, signal);
      await writeFully(out, buf.subarray(0, n), at + done, src);
      done += n;
    }
    return size;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number, path: string, signal?: AbortSignal): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    throwIfAborted(signal);
    let n: number;
    try {
      ({ bytesRead: n } = await fh.read(buf, done, buf.length - done, position + done));
    } catch (err) {
      throw fsError(err, path, position + done);
    }
    if (n === 0) throw vmxError(STORE.SIZE_MISMATCH, `the file ended early while reading [${position}, ${position + buf.length})`, { file: path, offset: position + done });
    done += n;
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number, path: string): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    try {
      const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
      done += bytesWritten;
    } catch (err) {
      throw fsError(err, path, position + done);
    }
  }
}

async function md5OfFile(path: string, size: number, signal?: AbortSignal): Promise<string> {
  const md5 = createHash('md5');
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, size)));
    for (let pos = 0; pos < size; pos += buf.length) {
      const n = Math.min(buf.length, size - pos);
      await readFully(fh, buf.subarray(0, n), pos, path, signal);
      md5.update(buf.subarray(0, n));
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return md5.digest('hex');
}
