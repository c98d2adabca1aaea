/** One disk as the descriptor describes it. */
export interface DescribedDisk {
  href: string;
  /** Exact member length (ovf:size). */
  fileSize: number;
  capacityBytes: number;
}

export interface DescribedSystem {
  name: string;
  cpus: number;
  memoryMiB: number;
}

/** Disks per SCSI controller: unit numbers 0-15 less 7, the controller's own (VMware's rule). */
const UNITS_PER_CONTROLLER = 15;
export const MAX_OVA_DISKS = 4 * UNITS_PER_CONTROLLER;

/** VMware's format URI for a stream-optimized VMDK (what ovftool and the clouds' importers expect). */
export const STREAM_OPTIMIZED_URI = 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized';

/**
 * An OVF 1.0 descriptor (DMTF DSP0243 1.0: §7.1 References, §9.1 DiskSection, §9.2
 * NetworkSection, §9.8 VirtualHardwareSection with CIM RASD items): one VirtualSystem with its
 * CPUs, memory, an E1000 NIC on "VM Network", LSI Logic SCSI controllers and the disks on them.
 */
export function buildOvfDescriptor(system: DescribedSystem, disks: DescribedDisk[]): string {
  const files = disks.map((d, i) => `    <File ovf:href="${xml(d.href)}" ovf:id="file${i + 1}" ovf:size="${d.fileSize}"/>`);
  const diskEls = disks.map(
    (d, i) => `    <Disk ovf:capacity="${d.capacityBytes}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk${i + 1}" ovf:fileRef="file${i + 1}" ovf:format="${STREAM_OPTIMIZED_URI}"/>`,
  );
  const controllers = Math.max(1, Math.ceil(disks.length / UNITS_PER_CONTROLLER));
  const items = [
    item({ AllocationUnits: 'hertz * 10^6', Description: 'Number of Virtual CPUs', ElementName: `${system.cpus} virtual CPU(s)`, InstanceID: '1', ResourceType: '3', VirtualQuantity: String(system.cpus) }),
    item({ AllocationUnits: 'byte * 2^20', Description: 'Memory Size', ElementName: `${system.memoryMiB}MB of memory`, InstanceID: '2', ResourceType: '4', VirtualQuantity: String(system.memoryMiB) }),
    ...Array.from({ length: controllers }, (_, c) =>
      item({ Address: String(c), Description: 'SCSI Controller', ElementName: `SCSI controller ${c}`, InstanceID: String(3 + c), ResourceSubType: 'lsilogic', ResourceType: '6' }),
    ),
    item({ AddressOnParent: '7', AutomaticAllocation: 'true', Connection: 'VM Network', Description: 'E1000 ethernet adapter on "VM Network"', ElementName: 'Network adapter 1', InstanceID: String(3 + controllers), ResourceSubType: 'E1000', ResourceType: '10' }),
    ...disks.map((_, i) => {
      const slot = i % UNITS_PER_CONTROLLER;
      return item({
        AddressOnParent: String(slot < 7 ? slot : slot + 1),
        ElementName: `Hard disk ${i + 1}`,
        HostResource: `ovf:/disk/vmdisk${i + 1}`,
        InstanceID: String(4 + controllers + i),
        Parent: String(3 + Math.floor(i / UNITS_PER_CONTROLLER)),
        ResourceType: '17',
      });
    }),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
${files.join('\n')}
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
${diskEls.join('\n')}
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="${xml(system.name)}">
    <Info>A virtual machine</Info>
    <Name>${xml(system.name)}</Name>
    <OperatingSystemSection ovf:id="1">
      <Info>The kind of installed guest operating system</Info>
      <Description>Other</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>${xml(system.name)}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-07</vssd:VirtualSystemType>
      </System>
${items.join('\n')}
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

/** RASD properties must appear in alphabetical order (the CIM schema's xs:sequence). */
function item(props: Record<string, string>): string {
  const lines = Object.keys(props)
    .sort()
    .map((k) => `        <rasd:${k}>${xml(props[k]!)}</rasd:${k}>`);
  return `      <Item>\n${lines.join('\n')}\n      </Item>`;
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
