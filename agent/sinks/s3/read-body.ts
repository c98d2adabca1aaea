import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import { STORE } from '../error-codes.js';

/**
 * Reads a response body that must hold exactly `expected` bytes into one buffer of that size
 * (the caller's requested range, never a size the server announced); more or fewer is an error.
 */
export async function readBodyExactly(body: unknown, expected: number, where: string, offset: number, signal?: AbortSignal): Promise<Buffer> {
  const out = Buffer.allocUnsafe(expected);
  let got = 0;
  const stream = body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  if (!stream || typeof stream[Symbol.asyncIterator] !== 'function') {
    throw vmxError(STORE.SIZE_MISMATCH, `the store sent no body for ${expected} bytes`, { file: where, offset });
  }
  try {
    for await (const chunk of stream) {
      throwIfAborted(signal);
      if (got + chunk.length > expected) {
        throw vmxError(STORE.SIZE_MISMATCH, `the store sent more than the ${expected} bytes asked for`, { file: where, offset });
      }
      out.set(chunk, got);
      got += chunk.length;
    }
  } finally {
    stream.destroy?.();
  }
  if (got !== expected) {
    throw vmxError(STORE.SIZE_MISMATCH, `the store sent ${got} of the ${expected} bytes asked for`, { file: where, offset: offset + got });
  }
  return out;
}
