import type { ObjectReader } from '../object-reader.js';
import { ecsClients, type EcsConnection } from '../ecs/ecs-clients.js';
import { startEcsExport, type EcsExportParams } from '../ecs/ecs-export.js';
import { cancelEcsTask, describeEcsTask } from '../ecs/ecs-tasks.js';
import { DEFAULT_POLL } from '../poll-task.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import { DEFAULT_DOWNLOAD_PART, downloadObject } from './download.js';
import type { ExportCommon, ExportResult } from './export-types.js';
import { followTask } from './follow-task.js';
import { withOnRetry } from '../cloud-retry.js';

/**
 * The object ECS ExportImage writes for the system disk: `<OSSPrefix>_<ImageId>_system.<ext>`, where the
 * default RAW export is packed as `.raw.tar.gz` (ECS "Export a custom image", exported file names).
 */
export function ecsExportKey(prefix: string, imageId: string, format: string): string {
  const ext = format === 'raw' ? 'raw.tar.gz' : format;
  return `${prefix}_${imageId}_system.${ext}`;
}

export async function runEcsExport(
  connection: EcsConnection,
  p: EcsExportParams & ExportCommon & { reader: ObjectReader },
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const clients = ecsClients({ ...connection, retry: withOnRetry(connection.retry, callbacks) });
  const taskId = await startEcsExport(clients, p, signal);
  await followTask({
    describe: () => describeEcsTask(clients, 'ecs-export-image', taskId, signal),
    cancel: () => cancelEcsTask(clients, taskId),
    cancelling: { kind: 'ecs-export-image', id: taskId },
    poll: p.poll ?? DEFAULT_POLL,
    callbacks,
    signal,
  });
  const key = ecsExportKey(p.ossPrefix, p.imageId, p.format);
  const dl = await downloadObject(p.reader, key, p.destination, { partSize: p.partSize ?? DEFAULT_DOWNLOAD_PART, signal, onBytes: p.onBytes });
  return { ...dl, taskId, bucket: p.ossBucket };
}
