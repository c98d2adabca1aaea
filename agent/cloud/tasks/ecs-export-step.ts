import type { ObjectReader } from '../object-reader.js';
import type { EcsConnection } from '../ecs/ecs-clients.js';
import type { EcsExportParams } from '../ecs/ecs-export.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import { DEFAULT_DOWNLOAD_PART, downloadObject } from './download.js';
import type { ExportCommon, ExportResult } from './export-types.js';
import { runExportTask } from './export-task.js';

export { ecsExportKey } from './export-task.js';

export async function runEcsExport(
  connection: EcsConnection,
  p: EcsExportParams & ExportCommon & { reader: ObjectReader },
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const done = await runExportTask({ cloud: 'ecs', connection, export: p, poll: p.poll }, callbacks, signal);
  const dl = await downloadObject(p.reader, done.key, p.destination, { partSize: p.partSize ?? DEFAULT_DOWNLOAD_PART, signal, onBytes: p.onBytes });
  return { ...dl, taskId: done.taskId, bucket: done.bucket };
}
