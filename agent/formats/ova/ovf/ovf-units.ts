/**
 * Programmatic units (DMTF DSP0004 CIM Infrastructure, Annex C.1 "Programmatic Units"), used by
 * OVF for ovf:capacityAllocationUnits (DSP0243 §9.1 DiskSection) and rasd:AllocationUnits
 * (memory): "byte", "byte * 2^30", "byte*1024", "byte * 10^9". Older exporters (VirtualBox 3,
 * some vSphere versions) wrote "KiloBytes", "MegaBytes", "GigaBytes", which are 2^10-based.
 * Returns the multiplier in bytes, or undefined for anything else.
 */
export function unitMultiplier(units: string | undefined): number | undefined {
  if (units === undefined || units.trim() === '') return 1;
  const legacy = LEGACY[units.trim().toLowerCase()];
  if (legacy !== undefined) return legacy;
  const parts = units.split('*').map((p) => p.trim());
  if (parts[0]!.toLowerCase() !== 'byte') return undefined;
  let m = 1;
  for (const p of parts.slice(1)) {
    const pow = /^([0-9]{1,4})\s*\^\s*([0-9]{1,2})$/.exec(p);
    const factor = pow ? Number(pow[1]) ** Number(pow[2]) : /^[0-9]{1,12}$/.test(p) ? Number(p) : NaN;
    if (!Number.isSafeInteger(factor) || factor <= 0) return undefined;
    m *= factor;
  }
  return Number.isSafeInteger(m) ? m : undefined;
}

const LEGACY: Record<string, number> = {
  bytes: 1,
  kilobytes: 2 ** 10,
  megabytes: 2 ** 20,
  gigabytes: 2 ** 30,
  terabytes: 2 ** 40,
  kb: 2 ** 10,
  mb: 2 ** 20,
  gb: 2 ** 30,
};
