import type { OvfEnvelope, OvfFile } from './ovf/ovf-types.js';

/** One disk of the package as `inspect` lists it (OVF DiskSection order, numbered from 1). */
export interface OvaDiskSummary {
  index: number;
  diskId: string;
  capacityBytes: number;
  format: string | undefined;
  file: string | undefined;
  fileSize: number | undefined;
  chunkSize: number | undefined;
  compression: string | undefined;
}

export function fileOfDisk(env: OvfEnvelope, diskIndex: number): OvfFile | undefined {
  const disk = env.disks[diskIndex - 1];
  return disk?.fileRef === undefined ? undefined : env.files.find((f) => f.id === disk.fileRef);
}

export function diskSummaries(env: OvfEnvelope): OvaDiskSummary[] {
  return env.disks.map((d, i) => {
    const f = fileOfDisk(env, i + 1);
    return { index: i + 1, diskId: d.diskId, capacityBytes: d.capacityBytes, format: d.format, file: f?.href, fileSize: f?.size, chunkSize: f?.chunkSize, compression: f?.compression };
  });
}

/** The hardware summary inspect prints: OS, CPUs, memory, NICs, controllers, firmware. */
export function hardwareSummary(env: OvfEnvelope): Record<string, unknown> {
  const vs = env.virtualSystem;
  if (!vs) return {};
  const hw = vs.hardware;
  return {
    name: vs.name ?? vs.id,
    os: [hw.os.osType, hw.os.id !== undefined ? `id ${hw.os.id}` : undefined, hw.os.description].filter(Boolean).join(', ') || undefined,
    cpus: hw.cpus,
    memoryBytes: hw.memoryBytes,
    nics: hw.nics.map((n) => [n.subtype, n.network && `on ${n.network}`].filter(Boolean).join(' ') || n.name),
    controllers: hw.controllers.map((c) => (c.subtype ? `${c.kind} (${c.subtype})` : c.kind)),
    diskDevices: hw.diskDevices.map((d) => {
      const ctl = hw.controllers.find((c) => c.instanceId === d.controller);
      return `${d.hostResource ?? d.instanceId}${ctl ? ` on ${ctl.kind}${ctl.subtype ? ` ${ctl.subtype}` : ''}` : ''}${d.address !== undefined ? ` address ${d.address}` : ''}`;
    }),
    firmware: hw.firmware ?? 'bios (not stated)',
  };
}
