import type { DistributeRequest } from '../cloud/distribute/distribute-options.js';
import type { DistributeResult } from '../cloud/distribute/distribute-step.js';
import type { CloudConnections } from '../cloud/upload-import/import-step-params.js';
import { pollPolicy, statusPrinter } from './cloud-connection.js';

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * The copies then the shares of `sourceImageId`, from the command line: the image lives in the region of
 * the one connection given; each status goes to stderr (JSON lines with --json), --no-dry-run skips the DryRuns.
 */
export async function runCliDistribute(sourceImageId: string, request: DistributeRequest, c: CloudConnections, values: Values, usage: string, signal: AbortSignal): Promise<DistributeResult> {
  const { runDistribute } = await import('../cloud/distribute/distribute-step.js');
  const common = { sourceImageId, request, poll: pollPolicy(values, usage), dryRun: values['no-dry-run'] !== true };
  const callbacks = { onStatus: statusPrinter(values.json === true) };
  if (c.aws) return runDistribute({ ...common, cloud: 'aws', connection: c.aws, sourceRegion: c.aws.region }, callbacks, signal);
  const { CopyLimiter } = await import('../cloud/tasks/copy-limiter.js');
  return runDistribute({ ...common, cloud: 'ecs', connection: c.ecs!, sourceRegion: c.ecs!.region, limiter: new CopyLimiter() }, callbacks, signal);
}
