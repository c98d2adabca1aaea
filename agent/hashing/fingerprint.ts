import type { IHasher } from 'hash-wasm';
import { requireCjs } from '../core/require-cjs.js';

const { createXXHash3, createXXHash64 } = requireCjs('hash-wasm') as typeof import('hash-wasm');

/**
 * Fingerprints of source chunks for resume identity: a resumed transfer re-reads a chunk and
 * compares its fingerprint with the one recorded before, to prove the source did not change.
 * Not cryptographic (collisions are not adversarial here: the source is the user's own disk).
 * xxHash64 and XXH3-64 via hash-wasm (node:crypto has neither); see bench/README.md "## Hashing".
 */
export type FingerprintAlgorithm = 'xxh64' | 'xxh3';

export class ChunkFingerprinter {
  private constructor(
    readonly algorithm: FingerprintAlgorithm,
    private readonly hasher: IHasher,
  ) {}

  /** Compiles hash-wasm's module once (asynchronous); `fingerprint` is synchronous afterwards. */
  static async create(algorithm: FingerprintAlgorithm): Promise<ChunkFingerprinter> {
    const hasher = algorithm === 'xxh64' ? await createXXHash64() : await createXXHash3();
    return new ChunkFingerprinter(algorithm, hasher);
  }

  /** 16 lowercase hex digits of the chunk, given whole or as consecutive pieces (seed 0). */
  fingerprint(chunk: Uint8Array | readonly Uint8Array[]): string {
    this.hasher.init();
    for (const piece of chunk instanceof Uint8Array ? [chunk] : chunk) this.hasher.update(piece);
    return this.hasher.digest('hex');
  }

  /** Starts a fingerprint fed piece by piece with `update`; `finish` returns it (16 hex digits). */
  begin(): void {
    this.hasher.init();
  }

  update(piece: Uint8Array): void {
    this.hasher.update(piece);
  }

  finish(): string {
    return this.hasher.digest('hex');
  }
}
