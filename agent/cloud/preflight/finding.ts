/**
 * One preflight result. `error`: the cloud would refuse the input (the upload must not start);
 * `repair`: the cloud would refuse it as it is, and vmxfer changes it on the way (the hint says how);
 * `warning`: worth knowing, nothing fails.
 */
export type Severity = 'error' | 'repair' | 'warning';

export interface Finding {
  severity: Severity;
  /** Short stable name of the rule that produced it (e.g. "ecs-image-name"). */
  rule: string;
  /** The error code the cloud itself documents for this refusal (e.g. "InvalidImageName.Malformed"). */
  cloudCode: string;
  /** What is wrong, naming the value. */
  message: string;
  /** One sentence saying what to do (or, for a repair, what vmxfer will do). */
  hint: string;
  /** For a repair: the output format vmxfer converts to during the upload. */
  convertTo?: string | undefined;
}

export type ImportTarget = 'aws-image' | 'aws-snapshot' | 'ecs-image';

export const IMPORT_TARGETS: readonly ImportTarget[] = ['aws-image', 'aws-snapshot', 'ecs-image'];

export function finding(severity: Severity, rule: string, cloudCode: string, message: string, hint: string, convertTo?: string): Finding {
  return convertTo === undefined ? { severity, rule, cloudCode, message, hint } : { severity, rule, cloudCode, message, hint, convertTo };
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** One line per finding, the way the CLI and job logs print them. */
export function formatFinding(f: Finding): string {
  return `${f.severity.toUpperCase()} [${f.cloudCode}] ${f.message} — ${f.hint}`;
}
