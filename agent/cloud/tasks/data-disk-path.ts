/**
 * Where an exported image's data disk N (1-based) is written beside DST, the system disk's file:
 * `.dataN` before the extension, so web01.qcow2 → web01.data1.qcow2 and web01.raw.tar.gz → web01.data1.raw.tar.gz.
 */
export function dataDiskPath(destination: string, n: number): string {
  const m = /(\.raw\.tar\.gz|\.tar\.gz|\.[A-Za-z0-9]+)$/.exec(destination);
  const slash = destination.lastIndexOf('/');
  if (!m || m.index <= slash + 1) return `${destination}.data${n}`;
  return `${destination.slice(0, m.index)}.data${n}${m[1]}`;
}
