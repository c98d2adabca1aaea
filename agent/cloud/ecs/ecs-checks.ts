import RamSdk from '@alicloud/ram20150501';
import OSS from 'ali-oss';
import { cloudCodeOfError } from '../cloud-error.js';
import { GET_ROLE_DENIED, type RoleFacts } from '../preflight/role-rules.js';
import type { OssBucketFacts } from '../preflight/bucket-rules.js';
import { callCloud } from '../cloud-retry.js';
import { ecsCall, type EcsClients } from './ecs-clients.js';
import type { AlibabaKeys } from './alibaba-credentials.js';
import { stsRefresh } from '../../sinks/oss/ali-oss-client.js';

/** RAM GetRole: EntityNotExist.Role means missing; AssumeRolePolicyDocument is the trust policy JSON. */
export async function ramRoleFacts(clients: EcsClients, roleName: string, signal?: AbortSignal): Promise<RoleFacts> {
  try {
    const out = await ecsCall(clients, 'GetRole', () => clients.ram.getRoleWithOptions(new RamSdk.GetRoleRequest({ roleName }), clients.runtime), signal);
    return { cloud: 'alibaba', roleName, exists: true, trustPolicy: out.body?.role?.assumeRolePolicyDocument };
  } catch (err) {
    const code = cloudCodeOfError(err) ?? '';
    if (code === 'EntityNotExist.Role') return { cloud: 'alibaba', roleName, exists: false };
    if (GET_ROLE_DENIED.alibaba.includes(code)) return { cloud: 'alibaba', roleName, exists: false, unverified: code };
    throw err;
  }
}

export interface OssConnection extends AlibabaKeys {
  region: string;
  /** http://host:port of an OSS-compatible endpoint (path style); the region's public endpoint otherwise. */
  endpoint?: string | undefined;
  /** Fresh keys when these are temporary (STS): see stsRefresh. */
  refreshCredentials?: (() => Promise<AlibabaKeys>) | undefined;
}

export function ossClient(conn: OssConnection, bucket?: string): OSS {
  return new OSS({
    region: `oss-${conn.region}`,
    accessKeyId: conn.accessKeyId,
    accessKeySecret: conn.accessKeySecret,
    ...(conn.securityToken ? { stsToken: conn.securityToken, ...stsRefresh(conn.refreshCredentials) } : {}),
    ...(bucket ? { bucket } : {}),
    ...(conn.endpoint ? { endpoint: conn.endpoint, sldEnable: true } as object : {}),
  });
}

/** The OSS side of an ECS connection: the keys its credential resolves (the default chain's, refreshed while they are temporary). */
export async function ossConnectionOf(clients: EcsClients, endpoint: string | undefined): Promise<OssConnection> {
  const keys = await clients.credential.keys();
  return { region: clients.region, endpoint, ...keys, refreshCredentials: keys.securityToken ? () => clients.credential.keys() : undefined };
}

/** OSS GetBucketInfo: BucketInfo/Bucket/Location, StorageClass and ServerSideEncryptionRule/SSEAlgorithm. */
export async function ossBucketFacts(clients: EcsClients, oss: OSS, bucket: string, signal?: AbortSignal): Promise<OssBucketFacts> {
  const out = await callCloud('alibaba', 'GetBucketInfo', () => oss.getBucketInfo(bucket), clients.retry, signal);
  const b = out.bucket as { Location?: string; StorageClass?: string; ServerSideEncryptionRule?: { SSEAlgorithm?: string } };
  return { bucket, location: b.Location, storageClass: b.StorageClass ?? 'Standard', sseAlgorithm: b.ServerSideEncryptionRule?.SSEAlgorithm };
}
