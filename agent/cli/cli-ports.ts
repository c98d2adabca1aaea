import { formatFinding } from '../cloud/preflight/finding.js';
import type { CloudConnections } from '../cloud/upload-import/import-step-params.js';
import { ProgressTracker } from '../core/progress.js';
import { MemoryJournal } from '../workflows/memory-journal.js';
import type { WorkflowPorts } from '../workflows/ports.js';
import { pollPolicy, statusPrinter } from './cloud-connection.js';
import { cliConfig, cliSinks } from './store-flags.js';
import { processSemaphore } from '../fleet/fleet-semaphore-local.js';

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * The ports of one command: a journal in memory (a rerun with --resume continues from the transfer's
 * checkpoint), the flags' sinks and cloud, and the terminal as reporter: each cloud task status on
 * stderr (JSON lines with --json), findings on stderr; the progress line shows the phases.
 */
export function cliPorts(values: Values, connections: CloudConnections, usage: string, signal: AbortSignal, progress = new ProgressTracker()): WorkflowPorts {
  const printStatus = statusPrinter(values.json === true);
  return {
    journal: new MemoryJournal(),
    sinks: cliSinks(values),
    // One command is one holder: its copies and tasks share the configured caps within this process.
    cloud: { connections, poll: pollPolicy(values, usage), slots: { semaphore: processSemaphore(), caps: cliConfig(values).fleet.cloud_tasks, holder: `vmxfer pid ${process.pid}` } },
    reporter: {
      phase: () => undefined,
      validated: (findings) => {
        for (const f of findings) process.stderr.write(`${formatFinding(f)}\n`);
      },
      guest: () => undefined,
      cloudTask: printStatus,
      outcome: () => undefined,
    },
    progress,
    signal,
  };
}
