import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from './run-command.js';
import { REPO_ROOT } from './tmp.js';

/*
 * Real guests for the inspector's tests, built without mounts or loop devices: partition tables by
 * sgdisk / sfdisk on sparse files, filesystems at offsets (mkfs.ext4 -d -E offset=, mkfs.fat
 * --offset + mtools), a first-stage debootstrap of Debian as the root tree (cached under .tmp/).
 */

const TOOLS = ['sgdisk', 'sfdisk', 'mkfs.ext4', 'mkfs.fat', 'mcopy', 'mmd'];

export const GUEST_TOOLS_MISSING: string | false = (() => {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  return missing.length ? `guest test tools missing (${missing.join(', ')}): run scripts/install-test-deps.sh` : false;
})();

export function toolMissing(tool: string): string | false {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0 ? false : `${tool} is not installed (scripts/install-test-deps.sh installs it)`;
}

/** The Debian mirror and suite of this machine's own apt configuration (never a host name written in the repository). */
export function aptMirror(): { uri: string; suite: string } | undefined {
  const dir = '/etc/apt/sources.list.d';
  const texts = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sources')).map((f) => readFileSync(join(dir, f), 'utf8')) : [];
  for (const t of texts) {
    for (const stanza of t.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suite = /^Suites:\s*(\S+)/m.exec(stanza)?.[1];
      if (uri && suite && !/security/.test(uri + suite)) return { uri, suite };
    }
  }
  const list = existsSync('/etc/apt/sources.list') ? readFileSync('/etc/apt/sources.list', 'utf8') : '';
  const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/m.exec(list.split('\n').filter((l) => !/security/.test(l)).join('\n'));
  return m ? { uri: m[1]!, suite: m[2]! } : undefined;
}

/**
 * A first-stage debootstrap (--foreign: packages unpacked, nothing run inside) of the machine's own
 * Debian suite, cached in .tmp/guest/debian (about 25 s the first time). Undefined, with the reason,
 * when debootstrap or the mirror is unavailable.
 */
export async function debianTree(): Promise<{ tree?: string; skip?: string }> {
  const tree = join(REPO_ROOT, '.tmp', 'guest', 'debian');
  if (existsSync(join(tree, '.vmxfer-complete'))) return { tree };
  if (toolMissing('debootstrap')) return { skip: toolMissing('debootstrap') as string };
  const mirror = aptMirror();
  if (!mirror) return { skip: 'no Debian mirror in this machine\'s apt sources for debootstrap' };
  await rm(tree, { recursive: true, force: true });
  await mkdir(dirname(tree), { recursive: true });
  const r = spawnSync('debootstrap', ['--foreign', '--variant=minbase', mirror.suite, tree, mirror.uri], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: `debootstrap failed (${r.status}): ${(r.stderr || '').slice(-300)}` };
  await rm(join(tree, 'var', 'cache', 'apt', 'archives'), { recursive: true, force: true });
  await writeFile(join(tree, '.vmxfer-complete'), '');
  return { tree };
}

/** A kernel image's first 4 KiB: the x86 boot-protocol header (boot.rst) with XLF_KERNEL_64, as a bzImage carries it. */
export function x86KernelHeader(): Buffer {
  const b = Buffer.alloc(4096);
  b.write('MZ', 0, 'latin1');
  b.writeUInt16LE(0xaa55, 0x1fe);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x020f, 0x206);
  b.writeUInt16LE(0x1, 0x236);
  return b;
}

/** An arm64 Image header (arm64/booting.rst): magic "ARM\x64" at 0x38. */
export function arm64KernelHeader(): Buffer {
  const b = Buffer.alloc(4096);
  b.write('ARM\x64', 0x38, 'latin1');
  return b;
}

/** A minimal PE image (an EFI application's headers) for `machine` (0x8664 x86-64, 0xAA64 arm64). */
export function peImage(machine: number): Buffer {
  const b = Buffer.alloc(1024);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(machine, 0x84);
  return b;
}

export interface TreeFile {
  path: string;
  content: string | Buffer;
}

/** A root tree: a hard-linked copy of `base` (or an empty directory) with `files` written over it (replaced, never written through a link). */
export async function rootTree(dir: string, base: string | undefined, files: TreeFile[]): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  if (base) await run('cp', ['-al', base, dir]);
  else await mkdir(dir, { recursive: true });
  for (const f of files) {
    const p = join(dir, f.path);
    await mkdir(dirname(p), { recursive: true });
    await rm(p, { force: true, recursive: true });
    if (f.path.endsWith('/')) await mkdir(p, { recursive: true });
    else await writeFile(p, f.content);
  }
  await chmod(dir, 0o755);
  return dir;
}

export interface PartitionSpec {
  /** Size in MiB; 0: the rest of the disk. */
  sizeMiB: number;
  /** sgdisk type code (ef00, 8300, 8e00, 4201 ...) or MBR type byte (hex: 83, ef, 8e, 42). */
  type: string;
  name?: string | undefined;
  bootable?: boolean | undefined;
  /** Logical partition inside an extended one (MBR). */
  logical?: boolean | undefined;
}

/** Partitions a sparse file; returns each partition's byte offset and length as sfdisk --json reads them back. */
export async function partitionDisk(path: string, sizeMiB: number, scheme: 'gpt' | 'mbr', parts: PartitionSpec[]): Promise<{ offset: number; length: number }[]> {
  await run('truncate', ['-s', `${sizeMiB}M`, path]);
  if (scheme === 'gpt') {
    const args = parts.flatMap((p, i) => [`-n${i + 1}:0:${p.sizeMiB ? `+${p.sizeMiB}M` : '0'}`, `-t${i + 1}:${p.type}`, ...(p.name ? [`-c${i + 1}:${p.name}`] : [])]);
    await run('sgdisk', ['-a', '2048', ...args, path]);
  } else {
    const hasLogical = parts.some((p) => p.logical);
    const lines = ['label: dos'];
    let extendedAdded = false;
    for (const p of parts) {
      if (p.logical && !extendedAdded) {
        lines.push('type=5');
        extendedAdded = true;
      }
      lines.push(`${p.sizeMiB ? `size=${p.sizeMiB}MiB, ` : ''}type=${p.type}${p.bootable ? ', bootable' : ''}`);
    }
    void hasLogical;
    await run('sh', ['-c', `printf '%s\\n' "$1" | sfdisk -q "$2"`, 'sh', lines.join('\n'), path]);
  }
  const table = JSON.parse(await run('sfdisk', ['--json', path])) as { partitiontable: { sectorsize?: number; partitions: { start: number; size: number; type: string }[] } };
  const ss = table.partitiontable.sectorsize ?? 512;
  return table.partitiontable.partitions.filter((p) => !['5', 'f', '85'].includes(p.type)).map((p) => ({ offset: p.start * ss, length: p.size * ss }));
}

/** ext4 filled from a directory at a byte offset of the image (mkfs.ext4 -d, -E offset). */
export async function ext4At(path: string, at: { offset: number; length: number }, tree: string, opts: { uuid: string; label?: string; type?: 'ext2' | 'ext3' | 'ext4' }): Promise<void> {
  await run(`mkfs.${opts.type ?? 'ext4'}`, ['-q', '-F', '-d', tree, '-U', opts.uuid, ...(opts.label ? ['-L', opts.label] : []), '-E', `offset=${at.offset}`, path, `${Math.floor(at.length / 1024)}`]);
}

/** FAT at a byte offset (mkfs.fat --offset in sectors) with files copied in by mtools. */
export async function fatAt(path: string, at: { offset: number; length: number }, files: TreeFile[], opts: { volumeId: string; label?: string; bits?: 12 | 16 | 32 }, work: string): Promise<void> {
  await run('mkfs.fat', ['-F', String(opts.bits ?? 16), '-i', opts.volumeId, ...(opts.label ? ['-n', opts.label] : []), '--offset', String(at.offset / 512), path, String(Math.floor(at.length / 1024))]);
  const img = `${path}@@${at.offset}`;
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) dirs.add('/' + parts.slice(0, i).join('/'));
  }
  for (const d of [...dirs].sort()) await run('mmd', ['-i', img, `::${d}`]);
  for (const f of files) {
    const local = join(work, `fat-${f.path.replace(/\//g, '_')}`);
    await writeFile(local, f.content);
    await run('mcopy', ['-i', img, local, `::${f.path}`]);
  }
}

/** MBR boot code: GRUB's boot.img starts with a short jump (EB 63 90); only the first 440 bytes are code. */
export async function writeBootCode(path: string): Promise<void> {
  await run('sh', ['-c', `printf '\\353\\143\\220' | dd of="$1" bs=1 conv=notrunc status=none`, 'sh', path]);
}

export { cp };
