import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDisk } from '../../agent/formats/detect.js';
import { isHeadPatch, type DiskWriter, type ImageIdentity } from '../../agent/formats/format-writer.js';
import { writeStreamToFile } from '../../agent/io/file-output.js';
import { WorkerPool } from '../../agent/pipeline/worker-pool.js';
import { MiB } from '../../agent/core/units.js';
import { CORE } from '../../agent/core/error-codes.js';
import { QEMU_MISSING, qemuImg } from '../helpers/qemu.js';
import { run } from '../helpers/run-command.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The contract every DiskWriter meets, run once per writer by writer-conformance.test.ts:
 *  - the same source and the same ImageIdentity give byte-identical output (an upload's resume
 *    regenerates parts and compares them with the confirmed ones), inline or on worker threads,
 *    whatever the chunk size, and whichever deflate engine runs (native libdeflate or its WebAssembly build);
 *  - the output never exceeds maxOutputSize, on compressible and on incompressible data;
 *  - HeadPatches come after every Buffer and lie within patchableHead;
 *  - qemu-img check (where qemu checks the format) and qemu-img compare against the source pass;
 *  - an abort rejects with the aborted error and leaves no output file, not even a partial one.
 */
export interface WriterCase {
  writer: DiskWriter;
  /** qemu-img's -f name for the output; for an OVA, the format of the disk member inside it. */
  qemuFormat: string;
  /** qemu-img check supports the format (it does not for raw and vpc). */
  qemuCheck: boolean;
  /** The output is a tar holding the disk (OVA): the disk member is extracted before qemu reads it. */
  tar?: boolean;
}

const IDENTITY: ImageIdentity = { createdAtMs: Date.UTC(2024, 4, 1, 12, 0, 0), uniqueId: '0123456789abcdef0123456789abcdef' };

interface Rendered {
  bytes: Buffer;
  buffersAfterPatch: number;
  patches: Array<{ offset: number; length: number }>;
}

/** Runs the writer to completion in memory, applying head patches the way a file output does. */
async function render(writer: DiskWriter, source: string, identity: ImageIdentity | undefined, run: { pool?: WorkerPool; chunkBytes?: number } = {}): Promise<Rendered> {
  const disk = await openDisk(source, { format: 'raw' });
  try {
    const chunks: Buffer[] = [];
    const patches: Rendered['patches'] = [];
    let buffersAfterPatch = 0;
    const pending: Array<{ offset: number; data: Buffer }> = [];
    for await (const out of writer.write(disk, { identity, outputName: 'disk.out', pool: run.pool, chunkBytes: run.chunkBytes })) {
      if (isHeadPatch(out)) {
        patches.push({ offset: out.offset, length: out.data.length });
        pending.push(out);
      } else {
        if (patches.length > 0) buffersAfterPatch++;
        chunks.push(Buffer.from(out));
      }
    }
    const bytes = Buffer.concat(chunks);
    for (const p of pending) p.data.copy(bytes, p.offset);
    return { bytes, buffersAfterPatch, patches };
  } finally {
    await disk.close();
  }
}

/** 9 MiB + 4 KiB: text-like runs, zero runs (whole and partial grains/clusters), random runs, an unaligned tail. */
function mixedDisk(): Buffer {
  const size = 9 * MiB + 4096;
  const b = Buffer.alloc(size);
  const text = Buffer.from('vmxfer writer conformance: the quick brown fox jumps over the lazy dog 0123456789\n');
  for (let at = 0; at < 2 * MiB; at += text.length) text.copy(b, at);
  randomBytes(MiB + 512).copy(b, 3 * MiB + 512);
  for (let at = 5 * MiB; at < 6 * MiB; at += 4096) b.writeUInt32LE(at, at);
  randomBytes(4096).copy(b, size - 4096);
  return b;
}

async function writeOutput(writer: DiskWriter, c: WriterCase, bytes: Buffer, dir: string): Promise<string> {
  const out = join(dir, 'out.image');
  await writeFile(out, bytes);
  if (!c.tar) return out;
  // tar(1), not vmxfer's reader, opens the archive: an independent oracle for the member layout.
  await run('tar', ['-xf', out, '-C', dir]);
  const member = (await readdir(dir)).find((n) => n.endsWith('.vmdk'));
  assert.ok(member, `the ${writer.target} archive holds a .vmdk member`);
  return join(dir, member);
}

export function writerConformance(c: WriterCase, name = c.writer.target): void {
  let work: { dir: string; cleanup: () => Promise<void> };
  let mixed: string;
  let random: string;

  test(`${name}: conformance setup`, async () => {
    work = await tempDir(`vmxfer-writer-${name.replace(/\W+/g, '-')}-`);
    mixed = join(work.dir, 'mixed.raw');
    random = join(work.dir, 'random.raw');
    await writeFile(mixed, mixedDisk());
    await writeFile(random, randomBytes(4 * MiB + 1536));
  });

  test(`${name}: the same source and identity give byte-identical output`, async () => {
    const a = await render(c.writer, mixed, IDENTITY);
    const b = await render(c.writer, mixed, { ...IDENTITY });
    assert.equal(sha256(b.bytes), sha256(a.bytes), `two runs with identity ${IDENTITY.uniqueId} differ (${a.bytes.length} vs ${b.bytes.length} bytes)`);
  });

  test(`${name}: the bytes do not depend on worker threads or chunk size (a daemon may resume what the CLI began)`, async () => {
    const inline = await render(c.writer, mixed, IDENTITY);
    const pool = new WorkerPool(2);
    try {
      const pooled = await render(c.writer, mixed, IDENTITY, { pool, chunkBytes: 256 * 1024 });
      assert.equal(sha256(pooled.bytes), sha256(inline.bytes), 'two worker threads and 256 KiB chunks');
    } finally {
      await pool.destroy();
    }
    const small = await render(c.writer, mixed, IDENTITY, { chunkBytes: 64 * 1024 });
    assert.equal(sha256(small.bytes), sha256(inline.bytes), 'inline with 64 KiB chunks');
  });

  test(`${name}: the bytes do not depend on the deflate engine: workers with the WebAssembly libdeflate reproduce this thread's output under the same encoder record`, async () => {
    const here = await render(c.writer, mixed, IDENTITY);
    const pool = new WorkerPool(2, { ...process.env, VMXFER_DEFLATE: 'wasm' });
    try {
      const wasm = await render(c.writer, mixed, IDENTITY, { pool, chunkBytes: 256 * 1024 });
      assert.equal(sha256(wasm.bytes), sha256(here.bytes), `${c.writer.encoder.compressor ?? 'no compressor'} on this thread (${c.writer.compressor ?? 'none'}) vs the WebAssembly build on the workers`);
    } finally {
      await pool.destroy();
    }
  });

  test(`${name}: output within maxOutputSize on compressible and incompressible data`, async () => {
    for (const src of [mixed, random]) {
      const disk = await openDisk(src, { format: 'raw' });
      const max = c.writer.maxOutputSize(disk);
      await disk.close();
      const out = await render(c.writer, src, IDENTITY);
      assert.ok(out.bytes.length <= max, `${src}: ${out.bytes.length} bytes written, maxOutputSize said ${max}`);
    }
  });

  test(`${name}: head patches follow every buffer and lie within patchableHead`, async () => {
    const disk = await openDisk(mixed, { format: 'raw' });
    const head = c.writer.patchableHead(disk);
    await disk.close();
    const out = await render(c.writer, mixed, IDENTITY);
    assert.equal(out.buffersAfterPatch, 0, 'no Buffer comes after a HeadPatch');
    for (const p of out.patches) assert.ok(p.offset >= 0 && p.offset + p.length <= head, `patch [${p.offset}, ${p.offset + p.length}) outside patchableHead ${head}`);
    if (head === 0) assert.equal(out.patches.length, 0, 'a writer with patchableHead 0 patches nothing');
  });

  test(`${name}: qemu-img check and compare against the source pass`, { skip: QEMU_MISSING }, async () => {
    for (const [i, src] of [mixed, random].entries()) {
      const dir = join(work.dir, `qemu-${i}`);
      await mkdir(dir, { recursive: true });
      const out = await writeOutput(c.writer, c, (await render(c.writer, src, IDENTITY)).bytes, dir);
      if (c.qemuCheck) await qemuImg(['check', '-q', '-f', c.qemuFormat, out]);
      await qemuImg(['compare', '-q', '-f', c.qemuFormat, '-F', 'raw', out, src]);
    }
  });

  test(`${name}: an abort rejects with the aborted error and leaves no output file`, async () => {
    const disk = await openDisk(mixed, { format: 'raw' });
    const ac = new AbortController();
    const dest = join(work.dir, 'aborted.image');
    let seen = 0;
    const stream = (async function* () {
      for await (const out of c.writer.write(disk, { signal: ac.signal, identity: IDENTITY, chunkBytes: 64 * 1024 })) {
        if (++seen === 1) ac.abort();
        yield out;
      }
    })();
    try {
      await assert.rejects(writeStreamToFile(dest, stream, { signal: ac.signal }), (err: any) => err?.code === CORE.ABORTED.code);
    } finally {
      await disk.close();
    }
    const left = (await readdir(work.dir)).filter((n) => n.includes('aborted'));
    assert.deepEqual(left, [], 'neither the output nor a partial file is left');
    assert.ok(!existsSync(dest));
  });

  test(`${name}: conformance teardown`, async () => {
    await work?.cleanup();
  });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
