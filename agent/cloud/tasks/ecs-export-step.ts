import type { EcsConnection } from '../ecs/ecs-clients.js';
import type { EcsExportParams } from '../ecs/ecs-export.js';
import type { ObjectSink } from '../../sinks/object-sink.js';
import type { CloudTaskCallbacks } from '../task-events.js';
import type { ExportCommon, ExportResult } from './export-types.js';
import { runExportTask } from './export-task.js';
import { downloadExported } from './export-download.js';

export { ecsExportKey } from './export-task.js';

/** ECS ExportImage, the task followed (CancelTask on abort), then the object downloaded from OSS through `sink`. */
export async function runEcsExport(
  connection: EcsConnection,
  p: EcsExportParams & ExportCommon & { sink: ObjectSink },
  callbacks: CloudTaskCallbacks = {},
  signal?: AbortSignal,
): Promise<ExportResult> {
  const done = await runExportTask({ cloud: 'ecs', connection, export: p, poll: p.poll, dryRunFirst: p.dryRunFirst }, callbacks, signal);
  return downloadExported('ecs', done, p.sink, p, signal);
}
