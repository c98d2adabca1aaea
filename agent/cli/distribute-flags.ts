import { CORE } from '../core/error-codes.js';
import { vmxError } from '../core/errors.js';
import type { Cloud, CopyRequest, DistributeRequest } from '../cloud/distribute/distribute-options.js';
import { importMakesImage } from '../cloud/distribute/distributed-image.js';
import type { ImportOptions } from '../cloud/upload-import/import-options.js';

/** Flags of the copies and shares after `upload --import` (and, renamed, of `vmxfer image copy|share`). */
export const DISTRIBUTE_FLAGS = {
  'copy-to': { type: 'string', multiple: true },
  'copy-name': { type: 'string' },
  'copy-description': { type: 'string' },
  'copy-encrypted': { type: 'boolean' },
  'copy-kms-key-id': { type: 'string' },
  'copy-encrypt-algorithm': { type: 'string' },
  'share-with': { type: 'string', multiple: true },
  'publish-community': { type: 'boolean' },
  'no-dry-run': { type: 'boolean' },
} as const;

export const DISTRIBUTE_FLAGS_HELP = `Copy and share after the import (aws-image, ecs-image, and aws-snapshot registered as an AMI with
--boot-mode / --platform: the copies and shares act on that AMI; checked before the first byte):
  --copy-to R[,R...]     copy the image to these regions (repeatable): EC2 CopyImage / ECS CopyImage, one
                         ClientToken per region; ECS runs at most 5 copies per region, one per image at a time
  --copy-name NAME       name of each copy (AWS default "<ami> copy"; ECS: the image name rules)
  --copy-description D   description of each copy
  --copy-encrypted       encrypt the copies   --copy-kms-key-id KEY  their KMS key (needs --copy-encrypted)
  --copy-encrypt-algorithm ALG  ECS: the copies' EncryptAlgorithm (e.g. AES256; needs --copy-encrypted)
  --share-with A[,A...]  share the image and each copy with these accounts (repeatable): EC2 launch
                         permissions, ECS ModifyImageSharePermission in batches of 10 (at most 50 per image)
  --publish-community    ECS: publish the image and the copies as community images (refused when encrypted)
  --no-dry-run           skip the DryRun call made before each CopyImage and share call`;

type Values = Record<string, string | boolean | string[] | undefined>;

/** A repeatable flag whose values may also be comma lists. */
export function listFlag(raw: string[] | string | undefined): string[] {
  const items = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return items.flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
}

function copies(values: Values): CopyRequest[] | undefined {
  const regions = listFlag(values['copy-to'] as string[] | undefined);
  if (!regions.length) return undefined;
  const s = (k: string) => values[k] as string | undefined;
  return regions.map((region) => ({ region, name: s('copy-name'), description: s('copy-description'), encrypted: values['copy-encrypted'] as boolean | undefined, kmsKeyId: s('copy-kms-key-id'), encryptAlgorithm: s('copy-encrypt-algorithm') }));
}

/** The copy/share request the flags ask for after the import `cloudImport`, or undefined. */
export function distributeFromFlags(values: Values, cloudImport: ImportOptions | undefined, usage: string): DistributeRequest | undefined {
  const given = Object.keys(DISTRIBUTE_FLAGS).filter((k) => k !== 'no-dry-run' && values[k] !== undefined);
  if (!given.length) return undefined;
  if (cloudImport === undefined) throw vmxError(CORE.USAGE, `--${given[0]} needs --import\n\n${usage}`);
  if (!importMakesImage(cloudImport)) {
    throw vmxError(CORE.USAGE, `--${given[0]} applies to an image: --import aws-snapshot makes snapshots, so add --boot-mode or --platform to register them as an AMI (or use --import aws-image)\n\n${usage}`);
  }
  const c = copies(values);
  if (!c && given.some((k) => k.startsWith('copy-'))) throw vmxError(CORE.USAGE, `--${given.find((k) => k.startsWith('copy-'))} needs --copy-to\n\n${usage}`);
  const accounts = listFlag(values['share-with'] as string[] | undefined);
  const community = values['publish-community'] === true;
  return { copies: c, share: accounts.length || community ? { accounts, community: community || undefined } : undefined };
}

export function cloudOfTarget(target: string): Cloud {
  return target === 'ecs-image' ? 'ecs' : 'aws';
}
