/**
 * A small least-recently-used cache of L2 tables keyed by file offset, bounded in bytes so that
 * memory does not grow with the disk (one table is one cluster: 512 B..2 MiB).
 */
export class L2Cache {
  private readonly tables = new Map<number, Buffer>();
  private readonly capacity: number;

  constructor(clusterSize: number, maxBytes = 4 * 1024 * 1024) {
    this.capacity = Math.max(1, Math.floor(maxBytes / clusterSize));
  }

  async get(offset: number, load: (offset: number) => Promise<Buffer>): Promise<Buffer> {
    const hit = this.tables.get(offset);
    if (hit) {
      this.tables.delete(offset);
      this.tables.set(offset, hit);
      return hit;
    }
    const table = await load(offset);
    this.tables.set(offset, table);
    if (this.tables.size > this.capacity) this.tables.delete(this.tables.keys().next().value!);
    return table;
  }
}
