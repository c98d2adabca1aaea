/** DSP0243 §7.1 "File references": one External file of the package. */
export interface OvfFile {
  id: string;
  href: string;
  size: number | undefined;
  /** Set when the file is split into chunks named href.000000000, href.000000001, ... */
  chunkSize: number | undefined;
  compression: string | undefined;
}

/** DSP0243 §9.1 "DiskSection": one virtual disk; capacity already multiplied out to bytes. */
export interface OvfDisk {
  diskId: string;
  fileRef: string | undefined;
  capacityBytes: number;
  format: string | undefined;
  populatedSize: number | undefined;
}

export interface OvfController {
  instanceId: string;
  kind: 'ide' | 'scsi' | 'sata' | 'nvme' | 'other';
  subtype: string | undefined;
}

export interface OvfDiskDevice {
  instanceId: string;
  /** rasd:HostResource: "ovf:/disk/ID" for a DiskSection disk, "ovf:/file/ID" for a file. */
  hostResource: string | undefined;
  controller: string | undefined;
  address: string | undefined;
}

export interface OvfNic {
  name: string | undefined;
  subtype: string | undefined;
  network: string | undefined;
}

/** What `inspect` reports of VirtualSystem: OS, CPUs, memory, NICs, controllers, disks, firmware. */
export interface OvfHardware {
  os: { id: string | undefined; osType: string | undefined; description: string | undefined };
  cpus: number | undefined;
  memoryBytes: number | undefined;
  nics: OvfNic[];
  controllers: OvfController[];
  diskDevices: OvfDiskDevice[];
  firmware: string | undefined;
}

export interface OvfEnvelope {
  /** "1.x" (namespace .../ovf/envelope/1) or "2.x" (.../ovf/envelope/2). */
  ovfVersion: string;
  files: OvfFile[];
  disks: OvfDisk[];
  networks: string[];
  virtualSystem: { id: string | undefined; name: string | undefined; hardware: OvfHardware } | undefined;
}
