/** One /etc/fstab line (fstab(5)) and how it names its device. */
export interface FstabEntry {
  line: number;
  device: string;
  mountPoint: string;
  type: string;
  options: string;
  /** uuid, label, partuuid, partlabel, device-path (/dev/sda1, /dev/xvda1, /dev/nvme0n1p1...), by-path (/dev/disk/by-*), mapper (LVM, dm-crypt), other. */
  naming: string;
}

const KERNEL_NAME = /^\/dev\/(sd[a-z]+|hd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+n\d+)(p?\d+)?$/;

export function parseFstab(text: string): FstabEntry[] {
  const out: FstabEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = raw.replace(/#.*/, '').trim();
    if (!l) return;
    const [device, mountPoint, type, options] = l.split(/\s+/);
    if (!device || !mountPoint) return;
    out.push({ line: i + 1, device, mountPoint, type: type ?? '', options: options ?? '', naming: naming(device) });
  });
  return out;
}

function naming(d: string): string {
  const tag = /^(UUID|LABEL|PARTUUID|PARTLABEL)=/i.exec(d);
  if (tag) return tag[1]!.toLowerCase();
  if (KERNEL_NAME.test(d)) return 'device-path';
  if (d.startsWith('/dev/disk/by-')) return 'by-path';
  if (d.startsWith('/dev/mapper/') || /^\/dev\/[^/]+\/[^/]+$/.test(d)) return 'mapper';
  return 'other';
}

/** The disk a kernel device name lies on (/dev/sda1 → sda), for naming the root's disk. */
export function kernelDisk(device: string): string | undefined {
  const m = KERNEL_NAME.exec(device);
  return m ? m[1] : undefined;
}
