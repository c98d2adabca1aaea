import { formatFinding } from '../cloud/preflight/finding.js';
import type { ImportOptions } from '../cloud/upload-import/import-options.js';
import type { UploadImportPlan } from '../cloud/upload-import/upload-preflight.js';
import { importConnections, requireImportStore } from './import-flags.js';
import type { UploadWorkflowResult } from '../workflows/upload.js';
import { preflightImport } from '../workflows/import-preflight.js';
import { MemoryJournal } from '../workflows/memory-journal.js';

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * The import preflight of `upload --import` (agent/workflows/import-preflight.ts), before any byte
 * leaves: repairs and warnings are printed on stderr, errors stop the command with CLOUD_PREFLIGHT_FAILED.
 * `options` carries the copies and shares of the flags.
 */
export async function preflightUploadImport(src: string, url: string, options: ImportOptions, values: Values, usage: string, signal: AbortSignal): Promise<UploadImportPlan> {
  requireImportStore(url, options, usage);
  return preflightImport(
    {
      source: src,
      options,
      format: values.format as string | undefined,
      parent: values.parent as string | undefined,
      as: values.as as string | undefined,
      onFindings: (findings) => {
        for (const f of findings) if (f.severity !== 'error') process.stderr.write(`${formatFinding(f)}\n`);
      },
    },
    { journal: new MemoryJournal(), cloud: { connections: importConnections(values, options, usage) }, reporter: { guest: () => undefined }, signal },
  );
}

/** The lines the terminal shows once the import is done. */
export function importSummary(r: NonNullable<UploadWorkflowResult['imported']>): string {
  const what = r.target === 'aws-image' ? 'AMI' : r.target === 'aws-snapshot' ? 'snapshot' : 'image';
  const ami = r.imageId ? `; AMI ${r.imageId} (task ${r.imageTaskId})` : '';
  return `${r.target}: ${what} ${r.resourceIds.join(', ')} (task ${r.taskIds.join(', ')})${ami}\n`;
}
