import type { GuestReport } from './inspector.js';

/** The text `vmxfer inspect --guest` prints: one fact a line. */
export function describeGuest(g: GuestReport): string {
  const t = g.partitionTable;
  const lines: string[] = ['guest:'];
  const crc = t.scheme === 'gpt' ? ` (disk GUID ${t.diskGuid}; primary header ${t.primaryHeaderOk ? 'ok' : 'BAD'}, backup header ${t.backupHeaderOk ? 'ok' : 'BAD'}${t.hybridMbr ? '; hybrid MBR' : ''})` : '';
  lines.push(`  partition table: ${t.scheme}${crc}`);
  for (const v of g.volumes) {
    const c = v.content;
    const where = v.logicalVolume ? `  LVM ${v.logicalVolume} (on partition ${v.partition ?? '-'})` : v.partition === undefined ? 'whole disk' : `partition ${v.partition}`;
    const facts = [v.partitionType, c.kind, c.label ? `label=${c.label}` : '', c.uuid ? `uuid=${c.uuid}` : '', c.encrypted ? 'ENCRYPTED' : '', v.role ? `[${v.role}]` : ''].filter(Boolean);
    lines.push(`  ${where}: offset ${v.offset}, ${v.length} bytes: ${facts.join(' ')}`);
  }
  lines.push(`  boot modes: ${g.bootModes.join(', ') || 'none found'}`);
  for (const l of g.efiLoaders) lines.push(`  EFI loader: ${l.path} (${l.architecture ?? 'not a PE image'})`);
  for (const s of g.systems) {
    if (s.family === 'windows') {
      lines.push(`  OS: ${s.productName ?? 'Windows'} (${s.release ?? 'release unknown'}; build ${s.currentBuild ?? '?'}${s.displayVersion ? ` ${s.displayVersion}` : ''}, version ${s.version ?? '?'}, edition ${s.editionId ?? '?'}, ${s.installationType ?? '?'}) in ${s.windowsDir} on ${where(g, s.volume)}`);
      continue;
    }
    lines.push(`  OS: ${s.prettyName ?? s.id ?? 'Linux'} (ID=${s.id ?? '?'}, VERSION_ID=${s.versionId ?? '?'}) on ${where(g, s.volume)}`);
    lines.push(`  kernels: ${s.kernels.join(', ') || 'none'}; modules for: ${s.modules.join(', ') || 'none'}`);
    for (const e of s.fstab) lines.push(`  fstab line ${e.line}: ${e.device} ${e.mountPoint} ${e.type} (${e.naming})`);
  }
  const wb = g.windowsBoot;
  if (wb) {
    const bios = wb.bios ? `bootmgr on ${where(g, wb.bios.volume)}${wb.bios.bcd ? ' with Boot/BCD' : ' WITHOUT Boot/BCD'}` : 'no bootmgr';
    const uefi = wb.uefi ? `${wb.uefi.path} on ${where(g, wb.uefi.volume)}${wb.uefi.bcd ? ' with BCD' : ' WITHOUT BCD'}` : 'no bootmgfw.efi';
    lines.push(`  Windows boot manager: ${bios}; ${uefi}`);
  }
  if (g.boot) {
    lines.push(`  boot configuration on ${where(g, g.boot.volume)}: ${g.boot.grubConfigs.map((c) => c.path).join(', ') || 'no grub.cfg'}${g.boot.usesBls ? `; BLS entries: ${g.boot.blsEntries.map((e) => e.id).join(', ')}` : ''}`);
    const d = g.boot.defaultEntry;
    lines.push(`  default boot entry: ${d ? `"${d.title}" ${d.kernel ?? ''} (${g.boot.defaultSource})` : 'cannot be told'}`);
  }
  lines.push(`  architecture: ${g.architecture ?? 'unknown'}`);
  lines.push(`  encrypted volumes: ${g.encrypted ? 'yes' : 'no'}; dual boot: ${g.dualBoot ? 'yes' : 'no'}; dynamic disk (LDM): ${g.dynamicDisk ? 'yes' : 'no'}`);
  if (g.root) lines.push(`  root: ${g.root.device} (${g.root.naming}) ${g.root.onBootDisk === 'yes' ? `on this disk, ${where(g, g.root.volume!)}` : g.root.onBootDisk === 'no' ? 'NOT on this disk' : 'placement unknown'}`);
  for (const w of g.warnings) lines.push(`  warning: ${w}`);
  lines.push(`  read ${g.bytesRead} bytes of the disk in ${g.elapsedMs} ms`);
  return lines.join('\n') + '\n';
}

function where(g: GuestReport, i: number): string {
  if (g.volumes[i]?.logicalVolume) return `LVM ${g.volumes[i]!.logicalVolume}`;
  const p = g.volumes[i]?.partition;
  return p === undefined ? 'the whole disk' : `partition ${p}`;
}
