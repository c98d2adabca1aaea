import { createHash, type Hash } from 'node:crypto';
import type { DiskSource, ExtentReadOptions } from './disk-source.js';
import type { Extent } from './extent.js';

const ZEROS = Buffer.alloc(1024 * 1024);

/**
 * Decorator: computes the SHA-256 of the virtual disk content (what `qemu-img convert -O raw | sha256sum`
 * gives) as the consumer pulls extents. `digest()` is valid once the extents are fully consumed.
 */
export class HashingSource {
  private hash: Hash = createHash('sha256');
  private hashed = 0;
  readonly source: DiskSource;

  constructor(inner: DiskSource) {
    const self = this;
    this.source = Object.create(inner, {
      extents: {
        value: async function* (opts?: ExtentReadOptions): AsyncGenerator<Extent> {
          // A writer may read the source more than once (the OVA writer's sizing pass): the digest is the last pass's.
          self.restart();
          for await (const e of inner.extents(opts)) {
            self.update(e);
            yield e;
          }
        },
      },
    }) as DiskSource;
  }

  private restart(): void {
    this.hash = createHash('sha256');
    this.hashed = 0;
  }

  private update(e: Extent): void {
    if (e.kind === 'data') this.hash.update(e.data);
    else for (let left = e.length; left > 0; left -= ZEROS.length) this.hash.update(ZEROS.subarray(0, Math.min(left, ZEROS.length)));
    this.hashed += e.length;
  }

  digest(): string | undefined {
    return this.hashed === this.source.virtualSize ? this.hash.digest('hex') : undefined;
  }
}
