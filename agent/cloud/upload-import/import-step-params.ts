import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import type { AwsConnection } from '../aws/aws-clients.js';
import type { EcsConnection } from '../ecs/ecs-clients.js';
import type { PollPolicy } from '../poll-task.js';
import type { ImportStepParams } from '../tasks/import-step.js';
import type { ImportOptions } from './import-options.js';

/** The uploaded object an import reads: the bucket and key of the upload URL, and its Format. */
export interface UploadedObject {
  bucket: string;
  key: string;
  /** The API's Format word (objectFormat): OVA, VMDK, VHD, VHDX, RAW, qcow2. */
  format: string;
  /** ECS DiskImageSize: the disk's virtual size in whole GiB. */
  virtualSize: number;
}

export interface CloudConnections {
  aws?: AwsConnection | undefined;
  ecs?: EcsConnection | undefined;
}

/** runImportStep's parameters for one uploaded object. */
export function importStepParams(o: ImportOptions, object: UploadedObject, connections: CloudConnections, poll: PollPolicy): ImportStepParams {
  if (o.target === 'ecs-image') {
    if (!connections.ecs) throw vmxError(CORE.USAGE, 'an ecs-image import needs an Alibaba Cloud region (and credentials)');
    return {
      cloud: 'ecs',
      // ImportImage's RegionId: the import's own region, else the connection's (the signing credential is the same).
      connection: o.region ? { ...connections.ecs, region: o.region } : connections.ecs,
      poll,
      dryRunFirst: o.dryRun !== false,
      import: {
        target: 'ecs-image',
        imageName: o.imageName ?? '',
        // ECS ImportImage: DiskImageSize in GiB, rounded up (a partial GiB still needs a whole one).
        disks: [
          { ossBucket: object.bucket, ossObject: object.key, format: object.format, sizeGiB: Math.max(1, Math.ceil(object.virtualSize / 1024 ** 3)) },
          // DiskImageSize is optional; left out, ECS takes the size from the object.
          ...(o.extraDisks ?? []).map((d) => ({ ossBucket: d.bucket, ossObject: d.key, format: d.format })),
        ],
        description: o.description,
        osType: o.osType,
        platform: o.platform,
        architecture: o.architecture,
        bootMode: o.bootMode,
        licenseType: o.licenseType,
        roleName: o.roleName,
        tags: o.tags,
        clientToken: o.clientToken,
      },
    };
  }
  if (!connections.aws) throw vmxError(CORE.USAGE, `an ${o.target} import needs an AWS region (and credentials)`);
  return {
    cloud: 'aws',
    connection: connections.aws,
    poll,
    dryRunFirst: o.dryRun !== false,
    import: {
      target: o.target,
      // One DiskContainer per disk: the uploaded object first (the boot disk; an OVA carries its own disks),
      // then the VM's other disks uploaded before; ImportSnapshot makes one task per disk.
      disks: [{ bucket: object.bucket, key: object.key, format: object.format }, ...(o.extraDisks ?? [])],
      description: o.description,
      licenseType: o.licenseType,
      usageOperation: o.usageOperation,
      bootMode: o.bootMode,
      architecture: o.architecture,
      platform: o.platform,
      encrypted: o.encrypted,
      kmsKeyId: o.kmsKeyId,
      roleName: o.roleName,
      tags: o.tags,
      clientToken: o.clientToken,
    },
  };
}
