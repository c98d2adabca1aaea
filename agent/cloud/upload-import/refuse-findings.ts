import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { formatFinding, hasErrors, type Finding } from '../preflight/finding.js';

/** Throws CLOUD_PREFLIGHT_FAILED listing every error finding (each with the cloud's own code). */
export function refuseFindings(findings: readonly Finding[], what: string, untouched = 'nothing was uploaded'): void {
  if (!hasErrors(findings)) return;
  const errors = findings.filter((f) => f.severity === 'error');
  throw vmxError(CLOUD.PREFLIGHT_FAILED, `${errors.length} finding(s) would make the ${what} fail; ${untouched}:\n${errors.map(formatFinding).join('\n')}`);
}
