import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import type { Extent } from '../../agent/disk/extent.js';
import { isVmxferError } from '../../agent/core/errors.js';
import { assertSourceMatchesRaw } from '../helpers/qemu.js';
import { sha256File } from '../helpers/hash.js';

/**
 * The contract every disk reader keeps, seekable or stream (disk-source.ts): its extents tile
 * [0, virtualSize) in order, data extents within maxDataLength; its content is what qemu-img
 * convert -O raw yields; an abort ends a read promptly with VMX_ABORTED; any damage to the image is
 * either read as some disk or refused with a typed error — never an untyped exception, a reader-bug
 * code, a hang or unbounded memory; a header declaring huge tables is refused before allocation.
 */
export interface ReaderCase {
  name: string;
  /** Why the whole case is skipped (a shared fixture or tool absent), said plainly. */
  skip?: () => string | false;
  /** The image to read for content (a realistic disk); the main file of a multi-file image. */
  realistic: () => Promise<string>;
  /** A smaller image of the same kind for the corruption, abort and hostile-header runs. */
  small: () => Promise<string>;
  /** Raw rendering of an image: qemu-img convert -O raw unless qemu cannot read the format. */
  oracle: (image: string) => Promise<string>;
  open: (image: string, signal?: AbortSignal) => Promise<DiskSource>;
  /** Header edits that declare tables far bigger than the file; each must be refused, typed, before allocating them. */
  hostile: Array<{ name: string; patch: (image: Buffer) => Buffer | void }>;
  /** Why hostile headers do not apply (a format with no tables). */
  noHostile?: string;
  /**
   * Every byte of the format is checked (compressed data by its checksum, metadata against the
   * grains met): damage read as a disk must then read as the undamaged disk.
   */
  detectsAllDamage?: boolean;
  /** Damage aimed at the format's own structures (markers, tables), beside the random words. */
  structural?: (image: Buffer) => Array<[string, (b: Buffer) => Buffer]>;
}

/** Reader-bug codes: an image, however damaged, must never produce these. */
const BUG_CODES = new Set(['VMX_SOURCE_EXTENTS', 'VMX_INTERNAL']);
const MUTATIONS = 48;
/** Damage may leave garbage for the collector; unbounded allocation (a table sized from a header) is far above this. */
const MEMORY_BOUND = 1024 * 1024 * 1024;
const HANG_MS = 30_000;

/** Reads every extent, checking the tiling; returns the data byte count. */
export async function readTiled(disk: DiskSource, maxDataLength = 256 * 1024, signal?: AbortSignal, hash?: Hash): Promise<number> {
  let next = 0;
  let data = 0;
  for await (const e of disk.extents({ maxDataLength, signal })) {
    checkExtent(e, next, disk.virtualSize, maxDataLength);
    next = e.offset + e.length;
    if (e.kind === 'data') data += e.length;
    hash?.update(e.kind === 'data' ? e.data : Buffer.alloc(e.length));
  }
  assert.equal(next, disk.virtualSize, `extents end at ${next}, not at the virtual size ${disk.virtualSize}`);
  return data;
}

function checkExtent(e: Extent, next: number, size: number, max: number): void {
  assert.equal(e.offset, next, `extent at ${e.offset} leaves a gap or overlap (the previous ended at ${next})`);
  assert.ok(e.length > 0, `empty extent at ${e.offset}`);
  assert.ok(e.offset + e.length <= size, `extent at ${e.offset} (+${e.length}) runs past the virtual size ${size}`);
  if (e.kind === 'data') {
    assert.equal(e.data.length, e.length, `data extent at ${e.offset} holds ${e.data.length} bytes for length ${e.length}`);
    assert.ok(e.length <= max, `data extent at ${e.offset} is ${e.length} bytes, over maxDataLength ${max}`);
  }
}

/** Opens and reads a (possibly damaged) image: 'ok', or the typed error's code; anything else fails the test. */
async function verdict(c: ReaderCase, image: string, what: string, intact?: string): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${HANG_MS} ms (a hang)`)), HANG_MS)));
  const attempt = (async () => {
    const disk = await c.open(image);
    const hash = createHash('sha256');
    try {
      await readTiled(disk, undefined, undefined, hash);
    } finally {
      await disk.close();
    }
    if (intact !== undefined && hash.digest('hex') !== intact) throw new assert.AssertionError({ message: `${what}: read as a different disk, without an error` });
    return 'ok';
  })();
  try {
    return await Promise.race([attempt, hang]);
  } catch (err) {
    if (isVmxferError(err) && !BUG_CODES.has(err.code)) return err.code;
    if (err instanceof assert.AssertionError) throw err;
    throw new assert.AssertionError({ message: `${what}: not a typed error but ${err instanceof Error ? err.stack : String(err)}` });
  } finally {
    clearTimeout(timer);
  }
}

/** Deterministic damage: 4-byte words set to 0, all-ones, a large value or noise, over headers, tables and trailers. */
function mutations(size: number): Array<{ at: number; value: Buffer }> {
  let s = 0x2545f491;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s);
  const values = [Buffer.alloc(4), Buffer.alloc(4, 0xff), Buffer.from([0x7f, 0xff, 0xff, 0xf0]), Buffer.from([0x00, 0x00, 0x10, 0x00])];
  const out: Array<{ at: number; value: Buffer }> = [];
  for (let i = 0; i < MUTATIONS; i++) {
    // Half in the first 64 KiB (headers, tables), a quarter in the last 4 KiB (footers, trailers), the rest anywhere.
    const zone = i % 4;
    const span = zone < 2 ? Math.min(size, 65536) : zone === 2 ? Math.min(size, 4096) : size;
    const base = zone === 2 ? size - span : 0;
    const at = base + ((rnd() % Math.max(1, span - 4)) & ~3);
    const noise = Buffer.alloc(4);
    noise.writeUInt32LE(rnd());
    out.push({ at, value: i % 5 === 4 ? noise : values[rnd() % values.length]! });
  }
  return out;
}

/** A damaged copy beside the original (parents named relative to it still resolve); removed by the caller. */
async function damagedCopy(image: string, tag: string, edit: (b: Buffer) => Buffer): Promise<string> {
  const out = join(dirname(image), `${basename(image, extname(image))}.${tag}${extname(image)}`);
  await writeFile(out, edit(Buffer.from(await readFile(image))));
  return out;
}

export function readerConformance(c: ReaderCase): void {
  describe(`reader conformance: ${c.name}`, () => {
    const skipped = () => c.skip?.() || false;

    test('extents tile [0, virtualSize) in order; data extents within maxDataLength', async (t) => {
      const why = skipped();
      if (why) return t.skip(why);
      const disk = await c.open(await c.realistic());
      try {
        assert.ok((await readTiled(disk, 64 * 1024)) > 0, 'the realistic image holds data');
      } finally {
        await disk.close();
      }
    });

    test('content is byte-identical to qemu-img convert -O raw', async (t) => {
      const why = skipped();
      if (why) return t.skip(why);
      const image = await c.realistic();
      const oracle = await c.oracle(image);
      const disk = await c.open(image);
      try {
        await assertSourceMatchesRaw(disk, oracle);
      } finally {
        await disk.close();
      }
    });

    test('abort: a signal aborted mid-read ends the read within a second with VMX_ABORTED', async (t) => {
      const why = skipped();
      if (why) return t.skip(why);
      const ac = new AbortController();
      const disk = await c.open(await c.small(), ac.signal);
      let aborted = 0;
      try {
        await assert.rejects(
          (async () => {
            for await (const e of disk.extents({ signal: ac.signal, maxDataLength: 4096 })) {
              void e;
              if (!aborted) {
                ac.abort();
                aborted = performance.now();
              }
            }
          })(),
          (err: unknown) => isVmxferError(err) && err.code === 'VMX_ABORTED',
        );
        assert.ok(performance.now() - aborted < 1000, `the read went on ${performance.now() - aborted} ms after the abort`);
      } finally {
        await disk.close();
      }
    });

    test(`damage: ${MUTATIONS} corrupted words, 5 truncations${c.structural ? ', zeroed structures' : ''} each ${c.detectsAllDamage ? 'read as the intact disk' : 'read as a disk'} or refused with a typed error, no hang, bounded memory`, async (t) => {
      const why = skipped();
      if (why) return t.skip(why);
      const image = await c.small();
      const size = (await readFile(image)).length;
      const seen = new Map<string, number>();
      const edits: Array<[string, (b: Buffer) => Buffer]> = mutations(size).map((m, i) => [`word ${i} at ${m.at}`, (b) => (m.value.copy(b, m.at), b)]);
      edits.push(...(c.structural?.(await readFile(image)) ?? []));
      const intact = c.detectsAllDamage ? await sha256File(await c.oracle(image)) : undefined;
      for (const frac of [0.01, 0.25, 0.5, 0.9, 0.999]) edits.push([`cut at ${Math.floor(size * frac)}`, (b) => b.subarray(0, Math.floor(size * frac))]);
      const rssBefore = process.memoryUsage().rss;
      for (const [i, [what, edit]] of edits.entries()) {
        const damaged = await damagedCopy(image, `damage${i}`, edit);
        try {
          const v = await verdict(c, damaged, `${c.name}, ${what}`, intact);
          seen.set(v, (seen.get(v) ?? 0) + 1);
        } finally {
          await rm(damaged, { force: true });
        }
        const grown = process.memoryUsage().rss - rssBefore;
        assert.ok(grown < MEMORY_BOUND, `${what}: memory grew by ${grown} bytes`);
      }
      t.diagnostic(`verdicts: ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}`);
      assert.ok([...seen.keys()].some((k) => k !== 'ok') || c.hostile.length === 0, 'some damage is refused');
    });

    test('hostile headers: huge declared tables are refused with a typed error before they are allocated', async (t) => {
      const why = skipped() || c.noHostile;
      if (why) return t.skip(why);
      const image = await c.small();
      for (const [i, h] of c.hostile.entries()) {
        const damaged = await damagedCopy(image, `hostile${i}`, (b) => h.patch(b) ?? b);
        try {
          const before = process.memoryUsage();
          const v = await verdict(c, damaged, `${c.name}, ${h.name}`);
          const after = process.memoryUsage();
          assert.notEqual(v, 'ok', `${h.name}: read as a disk`);
          assert.ok(after.arrayBuffers - before.arrayBuffers < 64 * 1024 * 1024 && after.rss - before.rss < MEMORY_BOUND, `${h.name}: allocated ${after.arrayBuffers - before.arrayBuffers} bytes of buffers`);
          t.diagnostic(`${h.name}: ${v}`);
        } finally {
          await rm(damaged, { force: true });
        }
      }
    });
  });
}
