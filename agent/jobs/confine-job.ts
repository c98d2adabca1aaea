import { confineFileUrl, confineOutput } from '../roots/confine-path.js';
import type { JobRecord } from './job-types.js';

/**
 * Checked again when a job starts (or restarts), before it writes anything: a directory swapped for a
 * symlink since the submit, or an output root removed from the configuration by a reload, stops the
 * job with API_OUTSIDE_ROOTS. Partial files, download checkpoints and a file store's .vmxfer-uploads /
 * .vmxfer-meta all live in the destination's directory, so confining the destination confines them.
 */
export async function confineJobOutputs(job: JobRecord, roots: readonly string[]): Promise<void> {
  if (job.kind === 'convert') await confineFileUrl(job.destination, roots, 'destination');
  else if (job.kind === 'download' || job.kind === 'export') await confineOutput(job.destination, roots, 'destination');
}
