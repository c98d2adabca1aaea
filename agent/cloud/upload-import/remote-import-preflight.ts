import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import type { Finding } from '../preflight/finding.js';
import type { ImportOptions } from './import-options.js';
import type { CloudConnections } from './import-step-params.js';

/**
 * The checks of `vmxfer preflight --check-role` that need the cloud, run for an upload's import before
 * its first byte: the import role exists and trusts the import service (IAM GetRole for vmimport, RAM
 * GetRole for AliyunECSImageImportDefaultRole). `checkRole: false` skips them; a GetRole the caller may
 * not call is a warning (role-unverified), not an error.
 */
export async function remoteImportPreflight(options: ImportOptions, connections: CloudConnections, signal?: AbortSignal): Promise<Finding[]> {
  if (options.checkRole === false) return [];
  const req = { target: options.target, image: { disks: [] }, convertAllowed: true, aws: { roleName: options.roleName }, ecs: { roleName: options.roleName } };
  // The SDKs load only here (seconds of start-up a plain upload does not pay).
  if (options.target === 'ecs-image') {
    if (!connections.ecs) throw vmxError(CORE.USAGE, 'the ecs-image role check needs an Alibaba Cloud region (and credentials)');
    const [{ ecsClients }, { ecsImportRolePreflight }] = await Promise.all([import('../ecs/ecs-clients.js'), import('../preflight/ecs-remote-preflight.js')]);
    return ecsImportRolePreflight(req, ecsClients(connections.ecs), signal);
  }
  if (!connections.aws) throw vmxError(CORE.USAGE, `the ${options.target} role check needs an AWS region (and credentials)`);
  const [{ awsClients }, { awsImportRolePreflight }] = await Promise.all([import('../aws/aws-clients.js'), import('../preflight/aws-remote-preflight.js')]);
  return awsImportRolePreflight(req, awsClients(connections.aws), signal);
}
