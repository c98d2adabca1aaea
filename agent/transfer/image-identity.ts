import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { vmxError } from '../core/errors.js';
import type { EncoderSettings, ImageIdentity } from '../formats/format-writer.js';
import { TRANSFER } from './error-codes.js';
import type { UploadCheckpoint } from './upload-checkpoint.js';

/**
 * The stamp a format writes where it would take the clock or a random generator (VHD Unique Id and
 * Time Stamp, VMDK CIDs, OVA member times), derived from the source (path, size, mtime) and the
 * options: a resume, or an upload repeated from the start, regenerates the same bytes, while two
 * different sources get different ids.
 */
export function imageIdentity(source: UploadCheckpoint['source'], options: { as: string; from?: string | undefined; parent?: string | undefined }): ImageIdentity {
  const uniqueId = createHash('sha256')
    .update(['vmxfer-image-identity', resolve(source.path), source.size, source.mtimeMs, options.as, options.from ?? '', options.parent ?? ''].join('\0'))
    .digest('hex')
    .slice(0, 32);
  return { createdAtMs: Math.floor(source.mtimeMs), uniqueId };
}

export function encoderOptions(e: EncoderSettings): Record<string, string | number> {
  return { writer: e.writer, ...(e.compressor === undefined ? {} : { compressor: e.compressor }), ...(e.level === undefined ? {} : { level: e.level }) };
}

/** The encoder the checkpoint recorded; a checkpoint from before encoders were recorded cannot be reproduced. */
export function encoderOf(cp: UploadCheckpoint): EncoderSettings {
  const o = cp.options;
  if (typeof o.writer !== 'string') {
    throw vmxError(TRANSFER.RESUME_ENCODER, `checkpoint ${cp.id} does not record its writer version, compressor and level (written by an older vmxfer: "${String(o.encoder)}"); start the upload again without --resume`);
  }
  return { writer: o.writer, compressor: typeof o.compressor === 'string' ? o.compressor : undefined, level: typeof o.level === 'number' ? o.level : undefined };
}

export function identityText(i: ImageIdentity): string {
  return `${i.createdAtMs}:${i.uniqueId}`;
}

/** The stamp the first run gave the encoder, so regenerated parts come out byte-identical. */
export function identityOf(cp: UploadCheckpoint): ImageIdentity {
  const m = /^(\d+):([0-9a-f]{32})$/.exec(String(cp.options.identity ?? ''));
  if (!m) throw vmxError(TRANSFER.CHECKPOINT_CORRUPT, `checkpoint ${cp.id} has no valid encoder identity ("${String(cp.options.identity)}")`);
  return { createdAtMs: Number(m[1]), uniqueId: m[2]! };
}
