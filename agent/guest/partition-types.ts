/** GPT partition type GUIDs (UEFI 2.10 §5.3.3 and the Discoverable Partitions Specification) the inspector names. */
export const GPT_TYPES: Readonly<Record<string, string>> = {
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'efi-system',
  '21686148-6449-6E6F-744E-656564454649': 'bios-boot',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'linux-data',
  '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709': 'linux-root-x86-64',
  'B921B045-1DF0-41C3-AF44-4C6F280D3FAE': 'linux-root-arm64',
  'BC13C2FF-59E6-4262-A352-B275FD6F7172': 'linux-xbootldr',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'linux-swap',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'linux-lvm',
  'CA7D7CCB-63ED-4C53-861C-1742536059CC': 'linux-luks',
  'A19D880F-05FC-4D3B-A006-743F0F84911E': 'linux-raid',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'microsoft-basic-data',
  'E3C9E316-0B5C-4DB8-817D-F92DF00215AE': 'microsoft-reserved',
  'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC': 'windows-recovery',
  '5808C8AA-7E8F-42E0-85D2-E1E90434CFB3': 'ldm-metadata',
  'AF9B60A0-1431-4F62-BC68-3311714A69AD': 'ldm-data',
};

/** MBR partition type bytes the inspector names. */
export const MBR_TYPES: Readonly<Record<number, string>> = {
  0x01: 'fat12', 0x04: 'fat16', 0x06: 'fat16', 0x0e: 'fat16', 0x0b: 'fat32', 0x0c: 'fat32',
  0x07: 'ntfs-exfat', 0x27: 'windows-recovery', 0x42: 'ldm-dynamic', 0x82: 'linux-swap', 0x83: 'linux-data',
  0x8e: 'linux-lvm', 0xfd: 'linux-raid', 0xef: 'efi-system', 0xee: 'gpt-protective',
  0x05: 'extended', 0x0f: 'extended', 0x85: 'extended',
};

export const MBR_EXTENDED = new Set([0x05, 0x0f, 0x85]);
