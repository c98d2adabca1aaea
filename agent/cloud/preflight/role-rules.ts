import { finding, type Finding } from './finding.js';

/** What a GetRole call found (IAM GetRole / RAM GetRole); `exists: false` when the service said NoSuchEntity / EntityNotExist.Role. */
export interface RoleFacts {
  cloud: 'aws' | 'alibaba';
  roleName: string;
  exists: boolean;
  /** The trust policy (AssumeRolePolicyDocument), decoded JSON text. */
  trustPolicy?: string | undefined;
  /**
   * The code GetRole itself was refused with (IAM AccessDenied, RAM NoPermission): the caller may not
   * read roles, so whether the role exists is unknown; the import itself may still be allowed.
   */
  unverified?: string | undefined;
}

/** The codes IAM GetRole / RAM GetRole answer a caller without iam:GetRole / ram:GetRole (IAM API "Common errors", RAM API error codes). */
export const GET_ROLE_DENIED: Record<RoleFacts['cloud'], readonly string[]> = { aws: ['AccessDenied'], alibaba: ['NoPermission'] };

/** The service principal the role must trust: VM Import/Export (vmie.amazonaws.com) or ECS (ecs.aliyuncs.com). */
const PRINCIPAL: Record<RoleFacts['cloud'], string> = { aws: 'vmie.amazonaws.com', alibaba: 'ecs.aliyuncs.com' };
const MISSING_CODE: Record<RoleFacts['cloud'], string> = { aws: 'NoSuchEntity', alibaba: 'EntityNotExist.Role' };

/**
 * VM Import/Export User Guide, "Required service role": a role (default vmimport) whose trust policy lets
 * vmie.amazonaws.com call sts:AssumeRole. ECS "Import images"/"Export images": AliyunECSImageImportDefaultRole
 * / AliyunECSImageExportDefaultRole trusting ecs.aliyuncs.com.
 */
export function roleRules(role: RoleFacts): Finding[] {
  if (role.unverified) {
    return [finding('warning', 'role-unverified', role.unverified, `the role ${role.roleName} could not be verified: GetRole was refused (${role.unverified})`, `Grant ${role.cloud === 'aws' ? 'iam:GetRole' : 'ram:GetRole'} to check the role before uploading, or make sure ${role.roleName} exists and trusts ${PRINCIPAL[role.cloud]}.`)];
  }
  if (!role.exists) {
    return [finding('error', 'role-missing', MISSING_CODE[role.cloud], `the role ${role.roleName} does not exist`, createHint(role))];
  }
  if (!trusts(role.trustPolicy, PRINCIPAL[role.cloud])) {
    return [finding('error', 'role-trust', role.cloud === 'aws' ? 'InvalidParameter' : 'NoSetRoletoECSServiceAcount', `the role ${role.roleName} does not trust ${PRINCIPAL[role.cloud]} to assume it`, `Add a trust policy statement allowing ${PRINCIPAL[role.cloud]} sts:AssumeRole.`)];
  }
  return [];
}

function createHint(role: RoleFacts): string {
  if (role.cloud === 'aws') return `Create the role ${role.roleName} with a trust policy for vmie.amazonaws.com (VM Import/Export User Guide, "Required service role").`;
  return `Create ${role.roleName} trusting ecs.aliyuncs.com and attach its system policy (one-click authorization in the RAM console).`;
}

/** True when some Allow statement names the principal service and sts:AssumeRole. */
export function trusts(policy: string | undefined, service: string): boolean {
  if (!policy) return false;
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(policy) as { Statement?: unknown };
  } catch {
    return false;
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  return statements.some((s: { Effect?: string; Action?: unknown; Principal?: { Service?: unknown } }) => {
    const actions = ([] as unknown[]).concat(s.Action ?? []);
    const services = ([] as unknown[]).concat(s.Principal?.Service ?? []);
    return s.Effect === 'Allow' && actions.includes('sts:AssumeRole') && services.includes(service);
  });
}
