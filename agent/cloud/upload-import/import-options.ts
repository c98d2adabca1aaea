import type { ImportTarget } from '../preflight/finding.js';
import type { ExtraDisk } from './extra-disks.js';
import type { CopyRequest, ShareRequest } from '../distribute/distribute-options.js';

/**
 * An import requested after an upload, as `vmxfer upload --import` flags and the API's `import`
 * object carry it. AWS fields follow ImportImage / ImportSnapshot (EC2 API reference), ECS fields
 * ImportImage (ECS API reference); each target ignores the other cloud's fields.
 */
export interface ImportOptions {
  target: ImportTarget;
  description?: string | undefined;
  /** AWS: AWS | BYOL; ECS: Auto | Aliyun | BYOL. */
  licenseType?: string | undefined;
  /** AWS only, never with licenseType. */
  usageOperation?: string | undefined;
  /** AWS: legacy-bios | uefi | uefi-preferred; ECS: BIOS | UEFI. */
  bootMode?: string | undefined;
  /** AWS: Windows | Linux; ECS: CentOS, Ubuntu, Others Linux, ... */
  platform?: string | undefined;
  /** AWS: x86_64 | arm64 / i386; ECS: x86_64 | arm64. */
  architecture?: string | undefined;
  encrypted?: boolean | undefined;
  kmsKeyId?: string | undefined;
  /** Default vmimport (AWS) or AliyunECSImageImportDefaultRole (ECS). */
  roleName?: string | undefined;
  tags?: Record<string, string> | undefined;
  /** ECS only (required there). */
  imageName?: string | undefined;
  /** ECS only: windows | linux. */
  osType?: string | undefined;
  /** ECS only: the region ImportImage runs in (RegionId); the configured ECS region when absent. */
  region?: string | undefined;
  /** The VM's other disks, uploaded before: one more disk container (ECS: disk device mapping) each, after the uploaded one. */
  extraDisks?: ExtraDisk[] | undefined;
  /** One token for every ImportImage call of this import, so a retried or restarted job gets the same task. */
  clientToken?: string | undefined;
  /** False skips the role check before the first byte (credentials without iam:GetRole / ram:GetRole). */
  checkRole?: boolean | undefined;
  /** False skips the checks inside the guest (agent/guest: OS, kernel, boot mode, encryption, fstab); the skip is reported as a warning. */
  guestChecks?: boolean | undefined;
  /** False skips the DryRun call before ImportImage / ImportSnapshot / ECS ImportImage (default: DryRun first). */
  dryRun?: boolean | undefined;
  /**
   * The operator supplies a VM Import manifest for disks over 8 TiB (AWS). Only the preflight's size rule
   * reads it: ImportImage / ImportSnapshot take no manifest parameter (ImportManifestUrl exists only on
   * the DiskImageDetail of the deprecated ImportInstance / ImportVolume).
   */
  manifest?: boolean | undefined;
  /** aws-image, ecs-image and aws-snapshot registered as an AMI: copies of the image to other regions once it is available. */
  copy?: CopyRequest[] | undefined;
  /** The same imports: accounts the image (and each copy) is shared with after the copies. */
  share?: ShareRequest | undefined;
}

export const AWS_BOOT_MODES = ['legacy-bios', 'uefi', 'uefi-preferred'] as const;
export const ECS_BOOT_MODES = ['BIOS', 'UEFI'] as const;

export function cloudOf(target: ImportTarget): 'aws' | 'ecs' {
  return target === 'ecs-image' ? 'ecs' : 'aws';
}

/** The boot modes the target's API documents. */
export function bootModesFor(target: ImportTarget): readonly string[] {
  return cloudOf(target) === 'ecs' ? ECS_BOOT_MODES : AWS_BOOT_MODES;
}
