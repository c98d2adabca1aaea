import { DEFAULT_DIGEST, type DigestKind } from '../hashing/content-digest.js';
import { Sha256Thread } from '../hashing/sha256-thread.js';
import type { DiskSource, ExtentReadOptions } from './disk-source.js';
import type { Extent } from './extent.js';

/**
 * Decorator: computes the digest of the virtual disk content (by default sha256-linear-512k, whose
 * zero extents cost no hashing; `sha256` is what `qemu-img convert -O raw | sha256sum` gives) as the
 * consumer pulls extents, on a thread of its own (Sha256Thread) so the hash runs beside the
 * conversion instead of in front of it. `digest()` is valid once the extents are fully consumed.
 */
export class HashingSource {
  private thread: Sha256Thread | undefined;
  private hashed = 0;
  /** Asked for as soon as a pass completes, so the thread ends then even if nobody reads the digest. */
  private result: Promise<string | undefined> | undefined;
  readonly source: DiskSource;

  constructor(inner: DiskSource, readonly kind: DigestKind = DEFAULT_DIGEST) {
    const self = this;
    this.source = Object.create(inner, {
      extents: {
        value: async function* (opts?: ExtentReadOptions): AsyncGenerator<Extent> {
          // A writer may read the source more than once (the OVA writer's sizing pass): the digest is the last pass's.
          const thread = self.restart();
          let complete = false;
          try {
            for await (const e of inner.extents(opts)) {
              if (e.kind === 'data') await thread.update(e.data);
              else thread.zeros(e.length);
              self.hashed += e.length;
              yield e;
            }
            complete = true;
            self.finish();
          } finally {
            // An abandoned or failed pass must not leave its thread running.
            if (!complete) await self.stop();
          }
        },
      },
    }) as DiskSource;
  }

  private restart(): Sha256Thread {
    void this.thread?.close();
    this.hashed = 0;
    this.result = undefined;
    return (this.thread = new Sha256Thread(undefined, undefined, this.kind));
  }

  private finish(): void {
    const thread = this.thread;
    this.thread = undefined;
    if (!thread || this.hashed !== this.source.virtualSize) return void thread?.close();
    this.result = thread.digest().then((hex) => `${this.kind}:${hex}`);
    // Read later, or never (a failed upload): a failure must not become an unhandled rejection meanwhile.
    this.result.catch(() => undefined);
  }

  private async stop(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    this.result = undefined;
    await thread?.close();
  }

  /** The digest (`<kind>:<hex>`) when every byte of the disk went through the hash, else undefined. */
  digest(): Promise<string | undefined> {
    return this.result ?? Promise.resolve(undefined);
  }
}
