import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import type { ImportOptions } from '../upload-import/import-options.js';

/**
 * Whether an import leaves an image that copies and shares can act on: aws-image and ecs-image do, and
 * aws-snapshot does only when a boot mode or platform registers its snapshots as an AMI (ImportImage with
 * DiskContainer.N.SnapshotId); plain snapshots are shared by another API (ModifySnapshotAttribute).
 */
export function importMakesImage(o: Pick<ImportOptions, 'target' | 'bootMode' | 'platform'>): boolean {
  return o.target !== 'aws-snapshot' || snapshotsMakeImage(o);
}

/** A boot mode or platform asks for aws-snapshot's snapshots to become an AMI: ImportSnapshot takes neither. */
export function snapshotsMakeImage(o: { bootMode?: unknown; platform?: unknown }): boolean {
  return o.bootMode !== undefined || o.platform !== undefined;
}

/** The image the copies and shares start from: the AMI registered from an aws-snapshot import, else the imported image. */
export function distributedImageId(imported: { target: string; resourceIds: string[]; imageId?: string | undefined }): string {
  const id = imported.target === 'aws-snapshot' ? imported.imageId : imported.resourceIds[0];
  if (!id) throw vmxError(CORE.INTERNAL, `the ${imported.target} import named no image to copy or share`);
  return id;
}
