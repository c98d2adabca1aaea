import { openDisk } from '../formats/detect.js';
import { VmxferError } from '../core/errors.js';
import { finding, type Finding, type ImportTarget } from '../cloud/preflight/finding.js';
import { inspectGuest, type GuestReport } from './inspector.js';
import { guestRules } from './guest-rules.js';
import { GUEST } from './error-codes.js';

export interface GuestPreflightInput {
  /** The image file (any format vmxfer reads) and how to open it. */
  path: string;
  format?: string | undefined;
  parent?: string | undefined;
  disk?: number | undefined;
  target: ImportTarget;
  bootMode?: string | undefined;
  platform?: string | undefined;
  architecture?: string | undefined;
  osType?: string | undefined;
  /** False: the operator skipped the guest checks (--skip-guest-checks, import.guestChecks=false); the skip is a warning finding. */
  guestChecks?: boolean | undefined;
  maxCacheBytes?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The guest rules for an import, run before the first byte by `vmxfer preflight`, `upload --import`
 * and API import jobs. A disk whose tables are malformed is an error finding (the import would find
 * "No valid partitions"); one the inspector cannot read within its memory bound is a warning.
 */
export async function guestPreflight(input: GuestPreflightInput): Promise<{ findings: Finding[]; report?: GuestReport | undefined }> {
  if (input.guestChecks === false) {
    return { findings: [finding('warning', 'guest-checks-skipped', '-', 'the checks inside the guest (OS, kernel, boot mode, encryption, fstab) were skipped on request', 'Run without --skip-guest-checks (import.guestChecks) to have them.')] };
  }
  const disk = await openDisk(input.path, { format: input.format, parent: input.parent, disk: input.disk, signal: input.signal });
  try {
    const report = await inspectGuest(disk, input.path, { maxCacheBytes: input.maxCacheBytes, signal: input.signal });
    return { findings: guestRules({ ...input, guest: report }), report };
  } catch (e) {
    if (!(e instanceof VmxferError) || !e.code.startsWith('GUEST_')) throw e;
    const severity = e.code === GUEST.SOURCE.code ? 'warning' : 'error';
    return { findings: [finding(severity, 'guest-unreadable', severity === 'error' ? (input.target === 'ecs-image' ? '-' : 'ClientError') : '-', `the disk's contents could not be inspected: ${e.message}`, severity === 'error' ? 'Repair the partition table or filesystem in the guest before exporting the disk ("No valid partitions. Not a valid volume").' : 'Inspect a raw copy, or raise guest.maxCacheBytes.')] };
  } finally {
    await disk.close();
  }
}
