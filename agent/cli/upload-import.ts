import { formatFinding } from '../cloud/preflight/finding.js';
import type { ImportOptions } from '../cloud/upload-import/import-options.js';
import { cloudOf } from '../cloud/upload-import/import-options.js';
import { refuseFindings } from '../cloud/upload-import/refuse-findings.js';
import { sourceFacts } from '../cloud/upload-import/source-facts.js';
import { planUploadImport, type UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import { remoteImportPreflight } from '../cloud/upload-import/remote-import-preflight.js';
import { guestPreflight } from '../guest/guest-preflight.js';
import { importConnections, requireImportStore } from './import-flags.js';
import type { UploadWorkflowResult } from '../workflows/upload.js';
import type { DistributeRequest } from '../cloud/distribute/distribute-options.js';
import { distributeProblems, refuseDistribute } from '../cloud/distribute/distribute-rules.js';

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * The import preflight of `upload --import`, before any byte leaves: the local rules, then the role
 * check (unless --no-role-check); repairs and warnings are printed on stderr, errors stop the command
 * with CLOUD_PREFLIGHT_FAILED and the cloud's codes.
 */
export async function preflightUploadImport(src: string, url: string, options: ImportOptions, values: Values, usage: string, signal: AbortSignal): Promise<UploadImportPlan> {
  requireImportStore(url, options, usage);
  const connections = importConnections(values, options, usage);
  const facts = await sourceFacts(src, { format: values.format as string | undefined, parent: values.parent as string | undefined, signal });
  const plan = planUploadImport(options, facts, values.as as string | undefined);
  const guest = await guestPreflight({ ...options, path: src, format: values.format as string | undefined, parent: values.parent as string | undefined, signal });
  plan.findings.push(...guest.findings);
  plan.findings.push(...(await remoteImportPreflight(options, connections, signal)));
  for (const f of plan.findings) if (f.severity !== 'error') process.stderr.write(`${formatFinding(f)}\n`);
  refuseFindings(plan.findings, `${options.target} import`);
  return plan;
}

/** The lines the terminal shows once the import is done. */
export function importSummary(r: NonNullable<UploadWorkflowResult['imported']>): string {
  const what = r.target === 'aws-image' ? 'AMI' : r.target === 'aws-snapshot' ? 'snapshot' : 'image';
  const ami = r.imageId ? `; AMI ${r.imageId} (task ${r.imageTaskId})` : '';
  return `${r.target}: ${what} ${r.resourceIds.join(', ')} (task ${r.taskIds.join(', ')})${ami}\n`;
}

/** The copy/share request refused before the first byte when the cloud would refuse it. */
export function checkUploadDistribute(request: DistributeRequest, options: ImportOptions, values: Values, usage: string): void {
  const c = importConnections(values, options, usage);
  const cloud = cloudOf(options.target);
  refuseDistribute(distributeProblems(cloud, request, cloud === 'aws' ? c.aws?.region : c.ecs?.region));
}
