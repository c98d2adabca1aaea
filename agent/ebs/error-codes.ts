import { defineErrorCodes } from '../core/errors.js';

/** Codes of the EBS snapshot destination (`ebs://REGION[/PARENT-SNAPSHOT-ID]`, the EBS direct APIs). */
export const EBS = defineErrorCodes('EBS', {
  BAD_URL: { category: 'usage', summary: 'An ebs:// destination is not ebs://REGION or ebs://REGION/snap-PARENT (a region such as eu-west-1, a snapshot id snap- and 8 or 17 hex digits).' },
  VOLUME_TOO_LARGE: { category: 'unsupported', summary: 'The source disk is larger than the 64 TiB (65,536 GiB) an EBS snapshot volume can be (StartSnapshot VolumeSize).' },
  PARENT_LARGER: { category: 'usage', summary: 'The parent snapshot\'s volume is larger than the source disk: an incremental snapshot cannot shrink the volume (StartSnapshot VolumeSize).' },
  CHANGED_NO_PARENT: { category: 'usage', summary: 'A change list (--changed-blocks, --changed-since) was given for an ebs:// destination without a parent snapshot: the blocks it leaves out would be missing from the snapshot; name the previous pass\'s snapshot (ebs://REGION/snap-PARENT).' },
  CHECKSUM_REJECTED: { category: 'integrity', summary: 'EBS refused a block because its SHA-256 checksum did not match the bytes it received (PutSnapshotBlock ValidationException); the block index is named.' },
  SNAPSHOT_FAILED: { category: 'remote', summary: 'The snapshot ended in the error state after CompleteSnapshot (a changed-block count or aggregate checksum EBS did not accept, or a service fault); run the upload again.' },
});
