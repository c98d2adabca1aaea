import type { GuestFiles } from './guest-files.js';
import { parseFstab, type FstabEntry } from './fstab.js';
import { kernelArchitecture } from './kernel-arch.js';

export interface LinuxFacts {
  family: 'linux';
  /** os-release(5) ID, VERSION_ID, PRETTY_NAME, ID_LIKE. */
  id?: string | undefined;
  versionId?: string | undefined;
  prettyName?: string | undefined;
  idLike?: string | undefined;
  /** Kernel versions from /boot/vmlinuz-* and /lib/modules/*, sorted. */
  kernels: string[];
  modules: string[];
  /** Architecture of the newest kernel image read. */
  architecture?: string | undefined;
  fstab: FstabEntry[];
  /** /etc/default/grub GRUB_DEFAULT, when set. */
  grubDefault?: string | undefined;
}

function osRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

/** os-release(5): /etc/os-release, falling back to /usr/lib/os-release; older systems name themselves in /etc/redhat-release or /etc/debian_version. */
async function release(fs: GuestFiles): Promise<Record<string, string> | undefined> {
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    const b = await fs.readFile(p, 65536);
    if (b) return osRelease(b.toString('utf8'));
  }
  const rh = await fs.readFile('/etc/redhat-release', 4096);
  if (rh) {
    const t = rh.toString('utf8').trim();
    const id = /^CentOS/i.test(t) ? 'centos' : /^Red Hat/i.test(t) ? 'rhel' : /^Fedora/i.test(t) ? 'fedora' : 'rhel-like';
    return { ID: id, VERSION_ID: /release\s+([\d.]+)/.exec(t)?.[1] ?? '', PRETTY_NAME: t };
  }
  const deb = await fs.readFile('/etc/debian_version', 4096);
  return deb ? { ID: 'debian', VERSION_ID: deb.toString('utf8').trim(), PRETTY_NAME: `Debian ${deb.toString('utf8').trim()}` } : undefined;
}

/** True when the filesystem looks like a Linux root: it has /etc and an os-release or a release file. */
export async function isLinuxRoot(fs: GuestFiles): Promise<boolean> {
  return (await fs.isDirectory('/etc')) && (await release(fs)) !== undefined;
}

export async function linuxFacts(fs: GuestFiles): Promise<LinuxFacts> {
  const r = (await release(fs)) ?? {};
  const boot = (await fs.list('/boot')) ?? [];
  const images = boot.filter((n) => /^(vmlinuz|vmlinux|Image)-/.test(n)).sort(compareVersions);
  const fromImages = images.map((n) => n.replace(/^[^-]+-/, ''));
  const modules = ((await fs.list('/lib/modules')) ?? (await fs.list('/usr/lib/modules')) ?? []).sort(compareVersions);
  const newest = images[images.length - 1];
  const head = newest ? await fs.readFile(`/boot/${newest}`, 64 * 1024) : undefined;
  const fstab = await fs.readFile('/etc/fstab', 1024 * 1024);
  const grubDefault = await fs.readFile('/etc/default/grub', 1024 * 1024);
  return {
    family: 'linux', id: r.ID, versionId: r.VERSION_ID, prettyName: r.PRETTY_NAME, idLike: r.ID_LIKE,
    kernels: [...new Set([...fromImages])].sort(compareVersions),
    modules,
    architecture: head ? kernelArchitecture(head) : undefined,
    fstab: fstab ? parseFstab(fstab.toString('utf8')) : [],
    grubDefault: grubDefault ? /^\s*GRUB_DEFAULT=["']?([^"'\n]*)/m.exec(grubDefault.toString('utf8'))?.[1] : undefined,
  };
}

/** Orders kernel versions numerically part by part ("5.10.0-9" before "5.10.0-23"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[^0-9]+/).filter(Boolean).map(Number);
  const pb = b.split(/[^0-9]+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d) return d;
  }
  return a.localeCompare(b);
}
