import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { iamSigningRegion } from './iam-region.js';
import { callCloud, DEFAULT_CLOUD_RETRY, DEFAULT_REQUEST_TIMEOUT_MS, type CloudRetryPolicy } from '../cloud-retry.js';

export interface AwsConnection {
  region: string;
  /** One endpoint for EC2, IAM and S3 (a fake or a private endpoint); the SDK's own resolution when absent. */
  endpoint?: string | undefined;
  /**
   * S3's own endpoint when it differs from `endpoint` (an EC2 VPC endpoint beside public or
   * S3-compatible storage, an S3 gateway); requests to it are path-style.
   */
  s3Endpoint?: string | undefined;
  /** Explicit credentials; the SDK's standard chain (env, profile, SSO, IMDS, ...) when absent. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  retry?: CloudRetryPolicy | undefined;
}

export interface AwsClients {
  readonly region: string;
  readonly ec2: EC2Client;
  readonly iam: IAMClient;
  readonly s3: S3Client;
  readonly retry: CloudRetryPolicy;
  /** An EC2 client for another region (CopyImage is called in the destination region). */
  ec2In(region: string): EC2Client;
}

/**
 * Builds the SDK clients. SDK retries are off (maxAttempts 1) because callCloud retries throttling,
 * server faults and dropped connections itself, with a policy the caller controls; a request silent
 * for the policy's request timeout is dropped (and retried); S3 checksums only when required (field notes).
 */
export function awsClients(conn: AwsConnection): AwsClients {
  const retry = conn.retry ?? DEFAULT_CLOUD_RETRY;
  const timeout = retry.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const base = {
    maxAttempts: 1,
    // throwOnRequestTimeout: without it the handler only logs a warning and keeps waiting.
    requestHandler: { requestTimeout: timeout, connectionTimeout: timeout, throwOnRequestTimeout: true },
    ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
    ...(conn.credentials ? { credentials: conn.credentials } : {}),
  };
  const s3Endpoint = conn.s3Endpoint ?? conn.endpoint;
  const ec2For = (region: string) => new EC2Client({ ...base, region });
  const byRegion = new Map<string, EC2Client>();
  const ec2 = ec2For(conn.region);
  byRegion.set(conn.region, ec2);
  return {
    region: conn.region,
    ec2,
    // IAM is global per partition: its requests are signed for the partition's IAM region.
    iam: new IAMClient({ ...base, region: iamSigningRegion(conn.region) }),
    s3: new S3Client({
      ...base,
      ...(s3Endpoint ? { endpoint: s3Endpoint } : {}),
      region: conn.region,
      forcePathStyle: s3Endpoint !== undefined,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    retry,
    ec2In(region: string) {
      let c = byRegion.get(region);
      if (!c) byRegion.set(region, (c = ec2For(region)));
      return c;
    },
  };
}

/** One AWS operation through the typed-error, throttle-retrying wrapper. */
export function awsCall<T>(clients: AwsClients, operation: string, op: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return callCloud('aws', operation, op, clients.retry, signal);
}

/**
 * EC2 DryRun: the API answers DryRunOperation when the call would succeed and UnauthorizedOperation (or
 * another code) when it would not (EC2 API reference, "DryRun" common parameter).
 */
export async function ec2DryRun(clients: AwsClients, operation: string, op: () => Promise<unknown>, signal?: AbortSignal): Promise<void> {
  try {
    await awsCall(clients, operation, op, signal);
  } catch (err) {
    const cause = (err as { cause?: { name?: string } }).cause;
    if (cause?.name === 'DryRunOperation') return;
    throw err;
  }
}
