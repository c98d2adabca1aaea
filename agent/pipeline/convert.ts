import { basename } from 'node:path';
import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import { ProgressTracker } from '../core/progress.js';
import { HashingSource } from '../disk/hashing-source.js';
import { withProgress } from '../disk/progress-source.js';
import { openDisk } from '../formats/detect.js';
import { WRITERS, writerByTarget } from '../formats/registry.js';
import { writeStreamToFile } from '../io/file-output.js';

export interface ConvertRequest {
  source: string;
  destination: string;
  to: string;
  /** Force the input format instead of detecting it. */
  from?: string | undefined;
  parent?: string | undefined;
  signal?: AbortSignal | undefined;
  progress?: ProgressTracker | undefined;
}

export interface ConvertResult {
  source: string;
  destination: string;
  format: string;
  target: string;
  virtualSize: number;
  outputBytes: number;
  sourceSha256: string | undefined;
  outputSha256: string;
  seconds: number;
}

export async function convertFile(req: ConvertRequest): Promise<ConvertResult> {
  const writer = writerByTarget(req.to);
  if (!writer) {
    throw vmxError(CORE.UNSUPPORTED_TARGET, `cannot write "${req.to}" (targets: ${WRITERS.map((w) => w.target).join(', ')})`);
  }
  const started = performance.now();
  const progress = req.progress ?? new ProgressTracker();
  progress.phase('opening');
  const disk = await openDisk(req.source, { format: req.from, parent: req.parent, signal: req.signal });
  try {
    progress.totalBytes = disk.virtualSize;
    const hashing = new HashingSource(withProgress(disk, progress));
    progress.phase('converting');
    const out = await writeStreamToFile(req.destination, writer.write(hashing.source, { signal: req.signal, outputName: basename(req.destination) }), {
      signal: req.signal,
      onWrite: (n) => progress.wrote(n),
    });
    progress.phase('done');
    return {
      source: req.source,
      destination: req.destination,
      format: disk.info.format,
      target: writer.target,
      virtualSize: disk.virtualSize,
      outputBytes: out.bytes,
      sourceSha256: hashing.digest(),
      outputSha256: out.sha256,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await disk.close();
  }
}
