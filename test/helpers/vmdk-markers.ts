/**
 * The markers of a stream-optimized VMDK from its first grain on (VMDK 5.0 §"Stream-Optimized
 * Compressed Sparse Extents"), walked independently of the reader under test: a grain marker has
 * size > 0; a metadata marker's `val` counts the sectors that follow it; type 0 ends the walk.
 */
export interface StreamMarker {
  pos: number;
  val: number;
  size: number;
  type: number;
}

export function streamMarkers(buf: Buffer): StreamMarker[] {
  const out: StreamMarker[] = [];
  let pos = Number(buf.readBigUInt64LE(64)) * 512;
  while (pos + 512 <= buf.length) {
    const m = { pos, val: Number(buf.readBigUInt64LE(pos)), size: buf.readUInt32LE(pos + 8), type: buf.readUInt32LE(pos + 12) };
    out.push(m);
    if (m.size > 0) pos += Math.ceil((12 + m.size) / 512) * 512;
    else if (m.type === 0) break;
    else pos += 512 * (1 + m.val);
  }
  return out;
}

/** Each structure of the stream zeroed in turn: a grain marker, each metadata marker (table, directory, footer, end). */
export function zeroedMarkers(buf: Buffer, base = 0): Array<[string, (b: Buffer) => Buffer]> {
  const all = streamMarkers(buf.subarray(base));
  const grains = all.filter((m) => m.size > 0);
  const picks: Array<[string, number]> = [['first grain marker', grains[0]!.pos], ['middle grain marker', grains[Math.floor(grains.length / 2)]!.pos], ['last grain marker', grains.at(-1)!.pos]];
  for (const m of all.filter((x) => x.size === 0)) picks.push([`marker type ${m.type} at ${m.pos}`, m.pos]);
  return picks.map(([what, pos]) => [`${what} zeroed`, (b: Buffer) => (b.fill(0, base + pos, base + pos + 16), b)]);
}
