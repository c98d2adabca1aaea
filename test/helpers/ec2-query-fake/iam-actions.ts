import { randomUUID } from 'node:crypto';
import { xmlDocument } from './xml.js';

export const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** IAM GetRole (IAM API reference): the trust policy is returned URL-encoded. */
export function iamGetRole(roles: Map<string, string>, roleName: string | undefined): { status: number; body: string } {
  const trust = roleName ? roles.get(roleName) : undefined;
  if (trust === undefined) {
    return {
      status: 404,
      body: xmlDocument('ErrorResponse', IAM_NS, { Error: { Type: 'Sender', Code: 'NoSuchEntity', Message: `The role with name ${roleName} cannot be found.` }, RequestId: randomUUID() }),
    };
  }
  return {
    status: 200,
    body: xmlDocument('GetRoleResponse', IAM_NS, {
      GetRoleResult: {
        Role: {
          Path: '/',
          RoleName: roleName,
          RoleId: 'AROAFAKEFAKEFAKEFAKE',
          Arn: `arn:aws:iam::123456789012:role/${roleName}`,
          CreateDate: '2026-01-01T00:00:00Z',
          AssumeRolePolicyDocument: encodeURIComponent(trust),
        },
      },
      ResponseMetadata: { RequestId: randomUUID() },
    }),
  };
}
