import type { GuestFiles } from './guest-files.js';

const SMALL = 1024 * 1024;

/** Every GRUB configuration a guest may boot from (GRUB 2 and legacy menu.lst), relative to the filesystem root. */
export const GRUB_CONFIGS = ['/boot/grub/grub.cfg', '/boot/grub2/grub.cfg', '/boot/grub/menu.lst', '/boot/grub/grub.conf', '/grub/grub.cfg', '/grub2/grub.cfg', '/grub/menu.lst'];
const GRUBENVS = ['/boot/grub2/grubenv', '/boot/grub/grubenv', '/grub2/grubenv', '/grub/grubenv'];

export interface BootEntry {
  title: string;
  /** The kernel the entry boots (its path as written), and the version taken from it. */
  kernel?: string | undefined;
  kernelVersion?: string | undefined;
  /** BLS: the entry's file name without ".conf" (what grubenv's saved_entry names). */
  id?: string | undefined;
}

export interface BootConfig {
  /** Files found, with a digest of their content to tell copies from different configurations. */
  grubConfigs: { path: string; sameAsFirst: boolean }[];
  menuEntries: BootEntry[];
  /** Boot Loader Specification entries (/boot/loader/entries/*.conf, or loader/entries on a separate /boot). */
  blsEntries: BootEntry[];
  /** GRUB reads BLS entries (grub.cfg calls blscfg). */
  usesBls: boolean;
  /** The entry booted by default, undefined when it cannot be told. */
  defaultEntry?: BootEntry | undefined;
  defaultSource?: string | undefined;
}

function versionOf(kernel: string | undefined): string | undefined {
  return kernel ? /vmlinu[xz]-([^\s/]+)$/.exec(kernel)?.[1] : undefined;
}

/** GRUB 2 menuentry blocks and legacy "title/kernel" stanzas, with the `linux`/`kernel` line of each. */
export function parseGrubMenu(text: string): BootEntry[] {
  const out: BootEntry[] = [];
  let cur: BootEntry | undefined;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    const menu = /^menuentry\s+(['"])(.*?)\1/.exec(l) ?? /^title\s+(.*)$/.exec(l);
    if (menu) {
      cur = { title: menu[2] ?? menu[1]! };
      out.push(cur);
      continue;
    }
    const k = /^(linux|linux16|linuxefi|kernel)\s+(\S+)/.exec(l);
    if (k && cur && !cur.kernel) {
      cur.kernel = k[2];
      cur.kernelVersion = versionOf(k[2]);
    }
  }
  return out;
}

function kv(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of text.split('\n')) {
    const r = /^\s*([A-Za-z_]\w*)\s*[= ]\s*(.*?)\s*$/.exec(l);
    if (r && !m.has(r[1]!)) m.set(r[1]!, r[2]!.replace(/^["']|["']$/g, ''));
  }
  return m;
}

export async function readBootConfig(fs: GuestFiles, prefix: '' | '/boot'): Promise<BootConfig> {
  const grubConfigs: BootConfig['grubConfigs'] = [];
  let first: Buffer | undefined;
  let menuEntries: BootEntry[] = [];
  let usesBls = false;
  let defaultSetting: string | undefined;
  const paths = prefix === '' ? GRUB_CONFIGS.filter((p) => p.startsWith('/grub')) : GRUB_CONFIGS.filter((p) => p.startsWith('/boot'));
  for (const path of paths) {
    const b = await fs.readFile(path, SMALL);
    if (!b) continue;
    first ??= b;
    grubConfigs.push({ path: prefix === '' ? `/boot${path}` : path, sameAsFirst: b.equals(first) });
    const text = b.toString('utf8');
    if (menuEntries.length === 0) menuEntries = parseGrubMenu(text);
    usesBls ||= /^\s*blscfg\b/m.test(text);
    defaultSetting ??= /^\s*(?:set\s+)?default\s*=\s*["']?([^"'\s]+)/m.exec(text)?.[1];
  }
  const blsDir = `${prefix}/loader/entries`;
  const blsEntries: BootEntry[] = [];
  for (const name of ((await fs.list(blsDir)) ?? []).filter((n) => n.endsWith('.conf')).sort()) {
    const f = kv(((await fs.readFile(`${blsDir}/${name}`, SMALL)) ?? Buffer.alloc(0)).toString('utf8'));
    const kernel = f.get('linux');
    blsEntries.push({ id: name.replace(/\.conf$/, ''), title: f.get('title') ?? name, kernel, kernelVersion: f.get('version') ?? versionOf(kernel) });
  }
  const env = await grubenv(fs, prefix);
  const cfg: BootConfig = { grubConfigs, menuEntries, blsEntries, usesBls };
  if (usesBls || (menuEntries.length === 0 && blsEntries.length > 0)) {
    const saved = env.get('saved_entry');
    const hit = blsEntries.find((e) => e.id === saved);
    return hit ? { ...cfg, defaultEntry: hit, defaultSource: 'grubenv saved_entry' } : cfg;
  }
  const setting = defaultSetting === 'saved' || defaultSetting === '${saved_entry}' ? env.get('saved_entry') ?? '0' : defaultSetting ?? '0';
  const entry = /^\d+$/.test(setting) ? menuEntries[Number(setting)] : menuEntries.find((e) => e.title === setting);
  return entry ? { ...cfg, defaultEntry: entry, defaultSource: `grub default=${setting}` } : cfg;
}

async function grubenv(fs: GuestFiles, prefix: string): Promise<Map<string, string>> {
  for (const p of GRUBENVS.filter((x) => (prefix === '' ? x.startsWith('/grub') : x.startsWith('/boot')))) {
    const b = await fs.readFile(p, 4096);
    if (b) return kv(b.toString('utf8').replace(/#+\s*$/, ''));
  }
  return new Map();
}
