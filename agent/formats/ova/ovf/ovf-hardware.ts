import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';
import { attr, child, type XmlElement } from './xml-parser.js';
import { unitMultiplier } from './ovf-units.js';
import type { OvfController, OvfHardware } from './ovf-types.js';

/**
 * CIM_ResourceAllocationSettingData ResourceType values (DSP0243 §9.8 VirtualHardwareSection,
 * DSP1041 / CIM schema ValueMap) that vmxfer reports.
 */
const RT = { CPU: '3', MEMORY: '4', IDE: '5', SCSI: '6', NIC: '10', DISK: '17', SATA: '20' } as const;

/** Reads OperatingSystemSection and the first VirtualHardwareSection of a VirtualSystem. */
export function parseHardware(vs: XmlElement, file: string): OvfHardware {
  const os = child(vs, 'OperatingSystemSection');
  const hw = child(vs, 'VirtualHardwareSection');
  // OVF 2.x adds StorageItem (SASD) and EthernetPortItem (EPASD) beside Item (RASD); same fields.
  const items = hw ? hw.children.filter((c) => c.local === 'Item' || c.local === 'StorageItem' || c.local === 'EthernetPortItem') : [];
  const field = (item: XmlElement, name: string) => child(item, name)?.text.trim();
  const ofType = (t: string) => items.filter((i) => field(i, 'ResourceType') === t);
  return {
    os: { id: os ? attr(os, 'id') : undefined, osType: os ? attr(os, 'osType') : undefined, description: os ? child(os, 'Description')?.text.trim() : undefined },
    cpus: sumQuantity(ofType(RT.CPU), field, 1, 'CPU', file),
    memoryBytes: sumQuantity(ofType(RT.MEMORY), field, undefined, 'memory', file),
    nics: ofType(RT.NIC).map((i) => ({ name: field(i, 'ElementName'), subtype: field(i, 'ResourceSubType'), network: field(i, 'Connection') })),
    controllers: items.flatMap((i) => controllerOf(i, field)),
    diskDevices: ofType(RT.DISK).map((i) => ({
      instanceId: field(i, 'InstanceID') ?? '',
      hostResource: field(i, 'HostResource'),
      controller: field(i, 'Parent'),
      address: field(i, 'AddressOnParent'),
    })),
    firmware: hw ? firmwareOf(hw) : undefined,
  };
}

/** VirtualQuantity × AllocationUnits (memory: "byte * 2^20", "MegaBytes"; CPUs: a plain count). */
function sumQuantity(items: XmlElement[], field: (i: XmlElement, n: string) => string | undefined, defaultUnit: number | undefined, what: string, file: string): number | undefined {
  if (items.length === 0) return undefined;
  let total = 0;
  for (const item of items) {
    const q = field(item, 'VirtualQuantity');
    const unit = defaultUnit ?? unitMultiplier(field(item, 'AllocationUnits') ?? 'byte * 2^20');
    if (q === undefined || !/^[0-9]{1,15}$/.test(q) || unit === undefined) {
      throw vmxError(OVA.BAD_ENVELOPE, `the ${what} Item has VirtualQuantity "${q ?? ''}" with AllocationUnits "${field(item, 'AllocationUnits') ?? ''}", not a count vmxfer understands`, { file });
    }
    total += Number(q) * unit;
  }
  return total;
}

function controllerOf(item: XmlElement, field: (i: XmlElement, n: string) => string | undefined): OvfController[] {
  const type = field(item, 'ResourceType');
  const subtype = field(item, 'ResourceSubType');
  const kind =
    type === RT.IDE ? 'ide' : type === RT.SCSI ? 'scsi' : type === RT.SATA ? (subtype && /nvme/i.test(subtype) ? 'nvme' : 'sata') : undefined;
  if (!kind) return [];
  return [{ instanceId: field(item, 'InstanceID') ?? '', kind, subtype: normaliseScsi(subtype) }];
}

/** VMware writes "VirtualSCSI" for the paravirtual controller; report it as pvscsi. */
function normaliseScsi(subtype: string | undefined): string | undefined {
  return subtype === 'VirtualSCSI' ? 'pvscsi' : subtype;
}

/**
 * Firmware: VMware writes <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
 * in the VirtualHardwareSection; XenServer-style exports use
 * <VirtualSystemOtherConfigurationData Name="firmware"><Value>uefi</Value>.
 */
function firmwareOf(hw: XmlElement): string | undefined {
  for (const c of hw.children) {
    if ((c.local === 'Config' || c.local === 'ExtraConfig') && attr(c, 'key') === 'firmware') return attr(c, 'value');
    if (c.local === 'VirtualSystemOtherConfigurationData' && attr(c, 'Name') === 'firmware') return child(c, 'Value')?.text.trim();
  }
  return undefined;
}
