import assert from 'node:assert/strict';
import type { DiskSource } from '../../agent/disk/disk-source.js';
import { qemuImg } from './qemu.js';
import { run } from './run-command.js';

interface QemuMapEntry {
  start: number;
  length: number;
  data: boolean;
  zero: boolean;
}

export async function qemuMap(image: string, format: string): Promise<QemuMapEntry[]> {
  return JSON.parse(await qemuImg(['map', '-f', format, '--output=json', image]));
}

/** Bytes as qemu reads them, through `qemu-io -c 'read -v OFF LEN'` (hex dump parsed back). */
export async function qemuIoRead(image: string, format: string, offset: number, length: number): Promise<Buffer> {
  const out = await run('qemu-io', ['-r', '-f', format, '-c', `read -v ${offset} ${length}`, image]);
  const bytes: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^[0-9a-f]{8,}:\s+((?:[0-9a-f]{2} ?)+)/.exec(line);
    if (m) for (const h of m[1]!.trim().split(/\s+/)) bytes.push(parseInt(h, 16));
  }
  assert.equal(bytes.length, length, `qemu-io returned ${bytes.length} bytes for a ${length}-byte read at ${offset}`);
  return Buffer.from(bytes);
}

/**
 * Checks a source against qemu without reading every zero of a huge sparse disk: our data extents
 * equal qemu's bytes there (`readOracle`), every range qemu maps as data is inside our data extents,
 * and everything else qemu maps as reading zero. Returns the number of data bytes compared.
 */
export async function assertMatchesQemuMap(
  source: DiskSource,
  map: QemuMapEntry[],
  readOracle: (offset: number, length: number) => Promise<Buffer>,
): Promise<number> {
  const ours: Array<[number, number]> = [];
  let pos = 0;
  let compared = 0;
  for await (const e of source.extents()) {
    assert.equal(e.offset, pos, `extent at ${e.offset} leaves a gap or overlap (expected ${pos})`);
    pos += e.length;
    if (e.kind !== 'data') continue;
    const want = await readOracle(e.offset, e.length);
    assert.ok(e.data.equals(want), `data extent at ${e.offset} (${e.length} bytes) differs from qemu`);
    compared += e.length;
    const last = ours[ours.length - 1];
    if (last && last[1] === e.offset) last[1] = e.offset + e.length;
    else ours.push([e.offset, e.offset + e.length]);
  }
  assert.equal(pos, source.virtualSize, `extents end at ${pos}, virtual size ${source.virtualSize}`);
  const qemuEnd = map.reduce((end, m) => Math.max(end, m.start + m.length), 0);
  assert.equal(qemuEnd, source.virtualSize, `qemu maps ${qemuEnd} bytes, we read ${source.virtualSize}`);
  for (const m of map) {
    if (!m.data) {
      assert.ok(m.zero, `qemu maps ${m.start}+${m.length} as neither data nor zero`);
      continue;
    }
    const covered = ours.some(([s, e]) => s <= m.start && m.start + m.length <= e);
    assert.ok(covered, `qemu's data range ${m.start}+${m.length} is not inside one of our data extents`);
  }
  return compared;
}

/** The bytes a source yields for [offset, offset + length), assembled from its extents. */
export async function sourceBytes(source: DiskSource, offset: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  for await (const e of source.extents()) {
    const from = Math.max(offset, e.offset);
    const to = Math.min(offset + length, e.offset + e.length);
    if (e.kind === 'data' && from < to) e.data.copy(out, from - offset, from - e.offset, to - e.offset);
    if (e.offset >= offset + length) break;
  }
  return out;
}
