import { createHash } from 'node:crypto';
import { LinearSha256 } from './linear-sha256.js';

/**
 * The digests that identify disk content (docs/integrity.md). The default costs in proportion to the
 * allocated data; `sha256` is the whole content's SHA-256, comparable with `sha256sum`, and costs in
 * proportion to the virtual size.
 */
export type DigestKind = 'sha256-linear-512k' | 'sha256';

export const DEFAULT_DIGEST: DigestKind = 'sha256-linear-512k';

/** Fed the content in order: data as bytes, zero runs as lengths. */
export interface ContentDigest {
  update(data: Uint8Array): void;
  zeros(length: number): void;
  /** `<kind>:<hex>`. */
  digest(): string;
}

export function createContentDigest(kind: DigestKind): ContentDigest {
  if (kind === 'sha256-linear-512k') {
    const linear = new LinearSha256();
    return { update: (d) => linear.update(d), zeros: (n) => linear.zeros(n), digest: () => `${kind}:${linear.digest()}` };
  }
  const hash = createHash('sha256');
  const zeros = Buffer.alloc(1024 * 1024);
  return {
    update: (d) => void hash.update(d),
    zeros: (n) => {
      for (let left = n; left > 0; left -= zeros.length) hash.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
    },
    digest: () => `sha256:${hash.digest('hex')}`,
  };
}

/** A labelled digest split into kind and hex; undefined when the label is not one vmxfer computes. */
export function parseDigest(labelled: string): { kind: DigestKind; hex: string } | undefined {
  const at = labelled.indexOf(':');
  const kind = labelled.slice(0, at);
  if (kind !== 'sha256' && kind !== 'sha256-linear-512k') return undefined;
  return { kind, hex: labelled.slice(at + 1) };
}

/** The hex of a labelled digest when it is a whole-content SHA-256 (the `sha256Sum`-comparable fields). */
export function sha256Hex(labelled: string | undefined): string | undefined {
  return labelled?.startsWith('sha256:') ? labelled.slice('sha256:'.length) : undefined;
}
