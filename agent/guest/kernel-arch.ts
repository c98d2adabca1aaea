import { gunzipSync, constants } from 'node:zlib';

/** PE/COFF machine types (Microsoft PE Format §"Machine Types"). */
const PE_MACHINES: Readonly<Record<number, string>> = { 0x8664: 'x86_64', 0xaa64: 'arm64', 0x14c: 'i386', 0x1c4: 'arm', 0x5064: 'riscv64' };

/** The machine of a PE image (an EFI loader, an EFI-stub kernel): "MZ", e_lfanew at 0x3C, "PE\0\0", Machine. */
export function peArchitecture(b: Buffer): string | undefined {
  if (b.length < 0x40 || b.toString('latin1', 0, 2) !== 'MZ') return undefined;
  const pe = b.readUInt32LE(0x3c);
  if (pe + 6 > b.length || b.toString('latin1', pe, pe + 4) !== 'PE\0\0') return undefined;
  return PE_MACHINES[b.readUInt16LE(pe + 4)] ?? `pe-machine-0x${b.readUInt16LE(pe + 4).toString(16)}`;
}

/**
 * A kernel image's architecture: x86 boot protocol "HdrS" at 0x202 with XLF_KERNEL_64 in xloadflags
 * (Documentation/arch/x86/boot.rst), the arm64 Image magic "ARM\x64" at 0x38
 * (Documentation/arch/arm64/booting.rst), else the PE header of an EFI stub; gzip-compressed
 * images (Debian's arm64 vmlinuz) are inflated as far as the header.
 */
export function kernelArchitecture(b: Buffer): string | undefined {
  if (b[0] === 0x1f && b[1] === 0x8b) {
    try {
      return kernelArchitecture(gunzipSync(b, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 1 << 20 }));
    } catch {
      return undefined;
    }
  }
  if (b.length >= 0x238 && b.toString('latin1', 0x202, 0x206) === 'HdrS') return b.readUInt16LE(0x206) >= 0x20c && (b.readUInt16LE(0x236) & 1) !== 0 ? 'x86_64' : 'i386';
  if (b.length >= 0x3c && b.toString('latin1', 0x38, 0x3c) === 'ARM\x64') return 'arm64';
  return peArchitecture(b);
}
