import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { ProgressTracker } from '../core/progress.js';
import { HashingSource } from '../disk/hashing-source.js';
import { DEFAULT_DIGEST, sha256Hex, type DigestKind } from '../hashing/content-digest.js';
import { withProgress } from '../disk/progress-source.js';
import { openDisk } from '../formats/detect.js';
import { WRITERS, writerFor } from '../formats/registry.js';
import { writeStreamToFile } from '../io/file-output.js';
import { WorkerPool } from './worker-pool.js';
import type { DiskSource } from '../disk/disk-source.js';
import { isMultiDiskWriter } from '../formats/ova/writer/ova-writer.js';
import { imageIdentity } from '../transfer/image-identity.js';
import type { ImageIdentity } from '../formats/format-writer.js';

export interface ConvertRequest {
  source: string;
  destination: string;
  to: string;
  /** Force the input format instead of detecting it. */
  from?: string | undefined;
  parent?: string | undefined;
  /** More disks after `source`, allowed only when the target holds several (an OVA). */
  extraSources?: string[] | undefined;
  /** Which disk of a multi-disk source (OVA, OVF) to read, 1-based. */
  disk?: number | undefined;
  signal?: AbortSignal | undefined;
  progress?: ProgressTracker | undefined;
  /** Worker threads for per-chunk work; 0 = inline; default: the cores this process may use. */
  workers?: number | undefined;
  /** qcow2: compressed clusters. */
  compress?: boolean | undefined;
  /** The digest of the source's virtual content (default on); off, the result omits it. */
  hashSource?: boolean | undefined;
  /**
   * Which digest the source and output get (docs/integrity.md): sha256-linear-512k by default, whose
   * cost follows the allocated data; `sha256` covers every virtual byte, zeros included (~1 CPU-second
   * per 1.2-1.5 GB of virtual size), for figures comparable with `sha256sum`.
   */
  digest?: DigestKind | undefined;
}

export interface ConvertResult {
  source: string;
  destination: string;
  format: string;
  target: string;
  virtualSize: number;
  outputBytes: number;
  /** The source's digest, `<kind>:<hex>`. */
  sourceDigest: string | undefined;
  /** With several sources: each one's digest, in order. */
  sourceDigests?: Array<string | undefined>;
  outputDigest: string;
  /** The hex of the digests above when their kind is `sha256` (`digest: 'sha256'`), else undefined. */
  sourceSha256: string | undefined;
  sourceSha256s?: Array<string | undefined>;
  outputSha256: string | undefined;
  seconds: number;
  /** The deflate implementation used ("libdeflate 1.14" or "node:zlib"); absent when the target is not compressed. */
  compressor?: string | undefined;
}

/**
 * The stamp of the output's ids and times (VMDK CID, VHD Unique Id, OVA member times), as an upload
 * derives it: the same sources and options convert to the same bytes, run after run.
 */
async function convertIdentity(req: ConvertRequest): Promise<ImageIdentity> {
  const st = await stat(req.source);
  const as = [req.to, ...(req.extraSources ?? []).map((p) => resolve(p))].join('\0');
  return imageIdentity({ path: req.source, size: st.size, mtimeMs: st.mtimeMs }, { as, from: req.from, parent: req.parent });
}

export async function convertFile(req: ConvertRequest): Promise<ConvertResult> {
  if (req.compress && req.to !== 'qcow2') {
    throw vmxError(CORE.USAGE, `--compress applies to --to qcow2 (vmdk is always compressed; ${req.to} has no compressed form)`);
  }
  const writer = writerFor(req.to, { compress: req.compress });
  if (!writer) {
    throw vmxError(CORE.UNSUPPORTED_TARGET, `cannot write "${req.to}" (targets: ${WRITERS.map((w) => w.target).join(', ')})`);
  }
  const started = performance.now();
  const progress = req.progress ?? new ProgressTracker();
  progress.phase('opening');
  const extra = req.extraSources ?? [];
  if (extra.length > 0 && !isMultiDiskWriter(writer)) {
    throw vmxError(CORE.USAGE, `several sources need a target that holds several disks (ova), not "${writer.target}"`);
  }
  const disks: DiskSource[] = [];
  const pool = new WorkerPool(req.workers ?? WorkerPool.defaultThreads());
  try {
    for (const path of [req.source, ...extra]) disks.push(await openDisk(path, { format: req.from, parent: req.parent, disk: req.disk, signal: req.signal }));
    const disk = disks[0]!;
    progress.totalBytes = disks.reduce((n, d) => n + d.virtualSize, 0);
    const counted = disks.map((d) => withProgress(d, progress));
    const hashing = req.hashSource === false ? undefined : counted.map((d) => new HashingSource(d, req.digest ?? DEFAULT_DIGEST));
    const sources = hashing?.map((h) => h.source) ?? counted;
    progress.phase('converting');
    const opts = { signal: req.signal, outputName: basename(req.destination), pool, identity: await convertIdentity(req) };
    const stream = isMultiDiskWriter(writer) && extra.length > 0 ? writer.writeMany(sources, opts) : writer.write(sources[0]!, opts);
    const out = await writeStreamToFile(req.destination, stream, {
      signal: req.signal,
      digest: req.digest,
      onWrite: (n) => progress.wrote(n),
    });
    progress.phase('done');
    const digests = hashing ? await Promise.all(hashing.map((h) => h.digest())) : undefined;
    return {
      source: req.source,
      destination: req.destination,
      format: disk.info.format,
      target: writer.target,
      virtualSize: disk.virtualSize,
      outputBytes: out.bytes,
      sourceDigest: digests?.[0],
      ...(extra.length > 0 && digests ? { sourceDigests: digests } : {}),
      outputDigest: out.digest,
      sourceSha256: sha256Hex(digests?.[0]),
      ...(extra.length > 0 && digests ? { sourceSha256s: digests.map(sha256Hex) } : {}),
      outputSha256: out.sha256,
      seconds: (performance.now() - started) / 1000,
      compressor: writer.compressor,
    };
  } finally {
    await Promise.all([...disks.map((d) => d.close()), pool.destroy()]);
  }
}
