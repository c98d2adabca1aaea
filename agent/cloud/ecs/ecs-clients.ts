import EcsSdk from '@alicloud/ecs20140526';
import RamSdk from '@alicloud/ram20150501';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $dara from '@darabonba/typescript';
import { AlibabaCredential } from './alibaba-credentials.js';
import { callCloud, DEFAULT_CLOUD_RETRY, DEFAULT_REQUEST_TIMEOUT_MS, type CloudRetryPolicy } from '../cloud-retry.js';

export type EcsClient = InstanceType<typeof EcsSdk.default>;
export type RamClient = InstanceType<typeof RamSdk.default>;

export interface EcsConnection {
  region: string;
  /** host[:port] of ECS (and RAM) when overridden (a fake, a VPC endpoint); the SDK's endpoint rules otherwise. */
  endpoint?: string | undefined;
  /** http for a local fake; https otherwise. */
  protocol?: 'http' | 'https' | undefined;
  /** Explicit AccessKey pair (with an STS SecurityToken); the @alicloud/credentials default chain when absent. */
  accessKeyId?: string | undefined;
  accessKeySecret?: string | undefined;
  securityToken?: string | undefined;
  /** The credential every client of this connection signs with (ecsConnectionFor makes one); built from the keys above when absent. */
  credential?: AlibabaCredential | undefined;
  retry?: CloudRetryPolicy | undefined;
}

export interface EcsClients {
  readonly region: string;
  readonly retry: CloudRetryPolicy;
  ecsIn(region: string): EcsClient;
  readonly ram: RamClient;
  /** Per-call runtime: SDK auto-retry off (callCloud retries transient failures itself), the policy's request timeout. */
  readonly runtime: $dara.RuntimeOptions;
  /** The connection's credential, for the OSS clients of the same flow. */
  readonly credential: AlibabaCredential;
}

function config(conn: EcsConnection, credential: AlibabaCredential, region: string, endpoint: string | undefined) {
  // signatureAlgorithm "v2" selects the classic RPC style: Action, Version and the HMAC-SHA1 signature
  // parameters in the query string (ECS API, "Request syntax" and "Signature method" for RPC APIs).
  return new $OpenApiUtil.Config({
    regionId: region,
    signatureAlgorithm: 'v2',
    ...(endpoint ? { endpoint } : {}),
    ...(conn.protocol ? { protocol: conn.protocol } : {}),
    // Given as `credential`, never as accessKeyId: openapi-core builds its own static credential from a
    // key pair and ignores `credential` then (client.js constructor).
    credential: credential as never,
  });
}

export function ecsClients(conn: EcsConnection): EcsClients {
  const byRegion = new Map<string, EcsClient>();
  const credential = conn.credential ?? new AlibabaCredential(conn);
  const retry = conn.retry ?? DEFAULT_CLOUD_RETRY;
  const timeout = retry.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return {
    credential,
    region: conn.region,
    retry,
    ecsIn(region: string) {
      let c = byRegion.get(region);
      if (!c) byRegion.set(region, (c = new EcsSdk.default(config(conn, credential, region, conn.endpoint))));
      return c;
    },
    ram: new RamSdk.default(config(conn, credential, conn.region, conn.endpoint ?? 'ram.aliyuncs.com')),
    runtime: new $dara.RuntimeOptions({ autoretry: false, maxAttempts: 1, readTimeout: timeout, connectTimeout: timeout }),
  };
}

/** One Alibaba Cloud operation through the typed-error, throttle-retrying wrapper. */
export function ecsCall<T>(clients: EcsClients, operation: string, op: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return callCloud('alibaba', operation, op, clients.retry, signal);
}

/** ECS DryRun: "DryRunOperation" is the answer of a request that would succeed (ECS API, DryRun parameter). */
export async function ecsDryRun(clients: EcsClients, operation: string, op: () => Promise<unknown>, signal?: AbortSignal): Promise<void> {
  try {
    await ecsCall(clients, operation, op, signal);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'DryRunOperation') return;
    throw err;
  }
}
