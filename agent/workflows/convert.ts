import { convertFile, type ConvertRequest, type ConvertResult } from '../pipeline/convert.js';
import type { WorkflowPorts } from './ports.js';

/** `vmxfer convert`: one streaming pass from local disk images to a local file. */
export type ConvertWorkflowRequest = Omit<ConvertRequest, 'signal' | 'progress'>;

/**
 * The conversion writes `.DST.vmxfer-partial` and renames it at the end; an abort removes the partial
 * file (a conversion has no checkpoint to resume from).
 */
export async function convertWorkflow(request: ConvertWorkflowRequest, ports: Pick<WorkflowPorts, 'progress' | 'signal'>): Promise<ConvertResult> {
  return convertFile({ ...request, signal: ports.signal, progress: ports.progress });
}
