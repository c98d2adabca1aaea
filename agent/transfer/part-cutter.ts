import { isHeadPatch, type WriterOutput } from '../formats/format-writer.js';
import { throwIfAborted } from '../core/abort.js';
import { InternalError } from '../core/errors.js';
import { CORE } from '../core/error-codes.js';

export interface CutPart {
  partNumber: number;
  /** Byte offset of the part in the object. */
  offset: number;
  body: Buffer;
}

/**
 * Cuts a writer's output into parts of `partSize` (the last one shorter). Part buffers come from
 * `acquire` (a pool the uploader refills), so memory is the pool's size. When the writer may patch
 * its head, part 1 is held back, patched and yielded last.
 */
export async function* cutParts(
  output: AsyncIterable<WriterOutput>,
  partSize: number,
  acquire: () => Promise<Buffer>,
  holdFirst: boolean,
  signal?: AbortSignal,
): AsyncGenerator<CutPart> {
  let current: Buffer | undefined;
  let fill = 0;
  let partNumber = 1;
  let offset = 0;
  let held: CutPart | undefined;
  const emit = (): CutPart | undefined => {
    const part = { partNumber, offset, body: current!.subarray(0, fill) };
    partNumber++;
    offset += fill;
    current = undefined;
    fill = 0;
    if (holdFirst && part.partNumber === 1) {
      held = part;
      return undefined;
    }
    return part;
  };
  for await (const chunk of output) {
    throwIfAborted(signal);
    if (isHeadPatch(chunk)) {
      const target = held ?? (partNumber === 1 && current ? { partNumber: 1, offset: 0, body: current } : undefined);
      if (!target || chunk.offset + chunk.data.length > target.body.length) {
        throw new InternalError(CORE.INTERNAL, `head patch at ${chunk.offset} (+${chunk.data.length}) falls outside the held first part`);
      }
      chunk.data.copy(target.body, chunk.offset);
      continue;
    }
    for (let pos = 0; pos < chunk.length; ) {
      current ??= await acquire();
      const n = Math.min(chunk.length - pos, partSize - fill);
      chunk.copy(current, fill, pos, pos + n);
      fill += n;
      pos += n;
      if (fill === partSize) {
        const part = emit();
        if (part) yield part;
      }
    }
  }
  if (current && fill > 0) {
    const part = emit();
    if (part) yield part;
  }
  if (held) yield held;
}
