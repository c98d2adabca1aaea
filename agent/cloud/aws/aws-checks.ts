import { GetRoleCommand } from '@aws-sdk/client-iam';
import { GetBucketAclCommand, GetBucketEncryptionCommand, GetBucketOwnershipControlsCommand } from '@aws-sdk/client-s3';
import { cloudCodeOfError } from '../cloud-error.js';
import { GET_ROLE_DENIED, type RoleFacts } from '../preflight/role-rules.js';
import type { S3BucketFacts } from '../preflight/bucket-rules.js';
import { awsCall, type AwsClients } from './aws-clients.js';

/** IAM GetRole: NoSuchEntity means the role is missing; the trust policy comes URL-encoded (IAM API, Role). */
export async function awsRoleFacts(clients: AwsClients, roleName: string, signal?: AbortSignal): Promise<RoleFacts> {
  try {
    const out = await awsCall(clients, 'GetRole', () => clients.iam.send(new GetRoleCommand({ RoleName: roleName }), { abortSignal: signal }), signal);
    const doc = out.Role?.AssumeRolePolicyDocument;
    return { cloud: 'aws', roleName, exists: true, trustPolicy: doc ? decodeURIComponent(doc) : undefined };
  } catch (err) {
    const code = cloudCodeOfError(err) ?? '';
    if (code === 'NoSuchEntity') return { cloud: 'aws', roleName, exists: false };
    if (GET_ROLE_DENIED.aws.includes(code)) return { cloud: 'aws', roleName, exists: false, unverified: code };
    throw err;
  }
}

/** The three bucket settings VM Export depends on, each absent setting read as "not configured". */
export async function s3BucketFacts(clients: AwsClients, bucket: string, signal?: AbortSignal): Promise<S3BucketFacts> {
  const absent = (codes: string[]) => (err: unknown) => {
    if (codes.includes(cloudCodeOfError(err) ?? '')) return undefined;
    throw err;
  };
  const ownership = await awsCall(clients, 'GetBucketOwnershipControls', () => clients.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }), { abortSignal: signal }), signal)
    .catch(absent(['OwnershipControlsNotFoundError']));
  const acl = await awsCall(clients, 'GetBucketAcl', () => clients.s3.send(new GetBucketAclCommand({ Bucket: bucket }), { abortSignal: signal }), signal);
  const enc = await awsCall(clients, 'GetBucketEncryption', () => clients.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }), { abortSignal: signal }), signal)
    .catch(absent(['ServerSideEncryptionConfigurationNotFoundError']));
  return {
    bucket,
    region: clients.region,
    objectOwnership: ownership?.OwnershipControls?.Rules?.[0]?.ObjectOwnership,
    grants: (acl.Grants ?? []).flatMap((g) => (g.Grantee?.ID && g.Permission ? [{ id: g.Grantee.ID, permission: g.Permission }] : [])),
    defaultEncryption: enc?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
  };
}
