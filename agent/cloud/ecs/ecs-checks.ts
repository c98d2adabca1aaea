import RamSdk from '@alicloud/ram20150501';
import OSS from 'ali-oss';
import { cloudCodeOfError } from '../cloud-error.js';
import { GET_ROLE_DENIED, type RoleFacts } from '../preflight/role-rules.js';
import type { OssBucketFacts } from '../preflight/bucket-rules.js';
import { callCloud } from '../cloud-retry.js';
import { ecsCall, type EcsClients } from './ecs-clients.js';

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

export interface OssConnection {
  region: string;
  /** http://host:port of an OSS-compatible endpoint (path style); the region's public endpoint otherwise. */
  endpoint?: string | undefined;
  accessKeyId: string;
  accessKeySecret: string;
}

export function ossClient(conn: OssConnection, bucket?: string): OSS {
  return new OSS({
    region: `oss-${conn.region}`,
    accessKeyId: conn.accessKeyId,
    accessKeySecret: conn.accessKeySecret,
    ...(bucket ? { bucket } : {}),
    ...(conn.endpoint ? { endpoint: conn.endpoint, sldEnable: true } as object : {}),
  });
}

/** OSS GetBucketInfo: BucketInfo/Bucket/StorageClass and ServerSideEncryptionRule/SSEAlgorithm. */
export async function ossBucketFacts(clients: EcsClients, oss: OSS, bucket: string, signal?: AbortSignal): Promise<OssBucketFacts> {
  const out = await callCloud('alibaba', 'GetBucketInfo', () => oss.getBucketInfo(bucket), clients.retry, signal);
  const b = out.bucket as { StorageClass?: string; ServerSideEncryptionRule?: { SSEAlgorithm?: string } };
  return { bucket, storageClass: b.StorageClass ?? 'Standard', sseAlgorithm: b.ServerSideEncryptionRule?.SSEAlgorithm };
}
