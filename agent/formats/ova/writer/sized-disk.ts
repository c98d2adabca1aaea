import type { DiskSource } from '../../../disk/disk-source.js';
import { CORE } from '../../../core/error-codes.js';
import { vmxError } from '../../../core/errors.js';
import { throwIfAborted } from '../../../core/abort.js';
import { isHeadPatch, type DiskWriter, type WriterOutput } from '../../format-writer.js';
import { OVA } from '../error-codes.js';

/** What the sizing pass learned about one disk's VMDK member. */
export interface SizedDisk {
  member: string;
  /** Exact length of the encoded VMDK. */
  size: number;
  /** The encoded bytes when they fitted the hold budget: the write pass then reuses them. */
  held: Buffer[] | undefined;
  /** The writer configured for this disk (fixed CID, so both passes emit the same bytes). */
  writer: DiskWriter;
}

/**
 * Sizing pass: a tar header states its member's size before the body, and a stream-optimized
 * VMDK's length is known only once its grains are compressed. So the disk is encoded once with
 * the output discarded, counting bytes; outputs that fit `budget.left` are kept (memory bounded
 * by configuration) so small disks are encoded once, larger ones a second time when written.
 */
export async function sizeDisk(source: DiskSource, member: string, writer: DiskWriter, budget: { left: number }, signal: AbortSignal | undefined): Promise<SizedDisk> {
  let size = 0;
  let held: Buffer[] | undefined = [];
  for await (const out of writer.write(source, { signal, outputName: member })) {
    throwIfAborted(signal);
    const buf = plain(out, member);
    size += buf.length;
    // A writer's buffer is valid until the next one is asked for (WriterOutput): held ones are copies.
    if (held && size <= budget.left) held.push(Buffer.from(buf));
    else held = undefined;
  }
  if (held) budget.left -= size;
  return { member, size, held, writer };
}

/** The write pass: the held bytes, or a second encoding that must match the measured size exactly. */
export async function* emitSizedDisk(d: SizedDisk, source: DiskSource, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  if (d.held) {
    yield* d.held;
    d.held = undefined;
    return;
  }
  let written = 0;
  for await (const out of d.writer.write(source, { signal, outputName: d.member })) {
    const buf = plain(out, d.member);
    written += buf.length;
    if (written > d.size) throw sizeChanged(d, written);
    yield buf;
  }
  if (written !== d.size) throw sizeChanged(d, written);
}

function sizeChanged(d: SizedDisk, written: number) {
  return vmxError(OVA.SIZE_CHANGED, `member "${d.member}" encoded to ${written > d.size ? 'more than' : ''} ${written} bytes on the write pass but ${d.size} on the sizing pass; the source changed while it was read`, {
    file: d.member,
  });
}

function plain(out: WriterOutput, member: string): Buffer {
  if (isHeadPatch(out)) throw vmxError(CORE.INTERNAL, `the VMDK writer asked to patch its head, which a tar member cannot take`, { file: member });
  return out;
}
