import { InternalError, isVmxferError } from '../core/errors.js';
import { CORE } from '../core/error-codes.js';
import type { ObjectSink, PartRef } from '../sinks/object-sink.js';
import { STORE } from '../sinks/error-codes.js';
import { partMd5 } from '../sinks/part-rules.js';
import type { PartCopier } from '../transfer/upload.js';
import type { IncrementalManifest, ManifestPart } from './manifest.js';
import { blockDigests, partDigest } from './block-digests.js';

/** Failures that mean the object is not the one the manifest describes: send the part instead. */
const STALE_SOURCE = new Set([STORE.PRECONDITION_FAILED.code, STORE.NO_SUCH_KEY.code, STORE.BAD_RANGE.code]);

/**
 * The incremental pass's per-part decision: a part whose digest equals the manifest's for the same
 * part number is copied by the store from the object it holds; any other is sent. A copied part's
 * ETag must be the MD5 of the bytes vmxfer read (the store's own word on what it copied), so an
 * object edited behind the manifest's back is never stitched in, even where the store ignores
 * x-amz-copy-source-if-match: that part is sent and no further part is copied.
 */
export class ManifestPartCopier implements PartCopier {
  /** Each part's 512 KiB block digests, whose SHA-256 is the part's digest (block-digests.ts). */
  private readonly blocks = new Map<number, Buffer>();
  private readonly etags = new Map<number, string>();
  copied = 0;
  bytesCopied = 0;
  /** Why copying stopped, once it did. */
  stopped: string | undefined;

  constructor(
    private readonly sink: ObjectSink,
    private readonly prior: IncrementalManifest | undefined,
    /** ETags that are not the MD5 of the bytes (SSE-KMS): the copied part cannot be checked, so nothing is copied. */
    opaqueEtags: boolean,
    private readonly warn: (sentence: string) => void,
  ) {
    if (prior && opaqueEtags) this.stop('the store encrypts with KMS, so a copied part\'s ETag cannot prove its bytes; every part is sent');
  }

  record(partNumber: number, body: Buffer): void {
    this.blocks.set(partNumber, blockDigests(body));
  }

  confirmed(partNumber: number, etag: string): void {
    this.etags.set(partNumber, etag);
  }

  async copy(key: string, uploadId: string, partNumber: number, body: Buffer, signal: AbortSignal): Promise<PartRef | undefined> {
    const before = this.prior?.parts[partNumber - 1];
    if (!this.prior || this.stopped || !this.sink.copyPart || !before) return undefined;
    const blocks = this.blocks.get(partNumber);
    if (before.size !== body.length || !blocks || before.sha256 !== partDigest(blocks)) return undefined;
    const start = (partNumber - 1) * this.prior.partSize;
    let ref: PartRef;
    try {
      ref = await this.sink.copyPart(key, uploadId, partNumber, { key: this.prior.key, start, end: start + body.length, ifMatch: this.prior.objectEtag }, signal);
    } catch (err) {
      if (!isVmxferError(err) || !STALE_SOURCE.has(err.code)) throw err;
      this.stop(`copying part ${partNumber} failed (${err.message}): the object changed since its manifest was written; the remaining parts are sent`);
      return undefined;
    }
    const md5 = partMd5(body);
    if (ref.etag !== md5.hex) {
      // The part now holds other bytes; sending it replaces them under the same part number.
      this.stop(`the store copied part ${partNumber} as ETag ${ref.etag}, not the MD5 ${md5.hex} of the source's bytes: the object was edited behind its manifest; the remaining parts are sent`);
      return undefined;
    }
    this.copied++;
    this.bytesCopied += body.length;
    return { ...ref, checksums: { ...ref.checksums, md5: md5.base64 } };
  }

  /** The manifest parts for the finished object: each part's digests and the store's ETag (the MD5 checked or sent). */
  manifestParts(partSize: number, objectSize: number): ManifestPart[] {
    const count = Math.ceil(objectSize / partSize);
    const parts: ManifestPart[] = [];
    for (let n = 1; n <= count; n++) {
      const blocks = this.blocks.get(n);
      const etag = this.etags.get(n);
      if (!blocks || etag === undefined) throw new InternalError(CORE.INTERNAL, `part ${n} of ${count} was not seen and confirmed by the incremental recorder`);
      parts.push({ partNumber: n, size: Math.min(partSize, objectSize - (n - 1) * partSize), sha256: partDigest(blocks), blocks: blocks.toString('base64'), etag });
    }
    return parts;
  }

  private stop(why: string): void {
    if (this.stopped) return;
    this.stopped = why;
    this.warn(why);
  }
}
