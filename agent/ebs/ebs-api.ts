import { createHash } from 'node:crypto';
import {
  CompleteSnapshotCommand,
  EBSClient,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from '@aws-sdk/client-ebs';
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { vmxError } from '../core/errors.js';
import { callCloud, DEFAULT_CLOUD_RETRY, DEFAULT_REQUEST_TIMEOUT_MS, type CloudRetryPolicy } from '../cloud/cloud-retry.js';
import { cloudCodeOfError } from '../cloud/cloud-error.js';
import { CLOUD } from '../cloud/error-codes.js';
import type { AwsConnection } from '../cloud/aws/aws-clients.js';
import { BlockSet } from './block-set.js';
import { EBS_BLOCK } from './disk-blocks.js';
import { EBS } from './error-codes.js';

export interface StartSnapshotParams {
  volumeSizeGiB: number;
  parentSnapshotId?: string | undefined;
  clientToken: string;
  description?: string | undefined;
  tags?: Record<string, string> | undefined;
  encrypted?: boolean | undefined;
  kmsKeyArn?: string | undefined;
  /** Minutes without a written block (or without CompleteSnapshot after the last) before EBS cancels the snapshot. */
  timeoutMinutes?: number | undefined;
}

/** What DescribeSnapshots says of a snapshot: pending | completed | error (| recoverable | recovering), or gone. */
export interface SnapshotState {
  state: string;
  message: string;
  progress?: number | undefined;
}

/** The EBS direct APIs through @aws-sdk/client-ebs, and EC2 DescribeSnapshots for the state EBS itself does not report. */
export class EbsApi {
  private readonly ebs: EBSClient;
  private readonly ec2: EC2Client;
  readonly retry: CloudRetryPolicy;

  constructor(conn: AwsConnection) {
    this.retry = conn.retry ?? DEFAULT_CLOUD_RETRY;
    const timeout = this.retry.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // As awsClients: SDK retries off (callCloud retries with the caller's policy), a silent request dropped.
    const base = {
      region: conn.region,
      maxAttempts: 1,
      requestHandler: { requestTimeout: timeout, connectionTimeout: timeout, throwOnRequestTimeout: true },
      ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
      ...(conn.credentials ? { credentials: conn.credentials } : {}),
    };
    this.ebs = new EBSClient(base);
    this.ec2 = new EC2Client(base);
  }

  private call<T>(operation: string, op: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return callCloud('aws', operation, op, this.retry, signal);
  }

  async start(p: StartSnapshotParams, signal?: AbortSignal): Promise<string> {
    const out = await this.call('StartSnapshot', () => this.ebs.send(new StartSnapshotCommand({
      VolumeSize: p.volumeSizeGiB,
      ParentSnapshotId: p.parentSnapshotId,
      ClientToken: p.clientToken,
      Description: p.description,
      Tags: p.tags ? Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
      Encrypted: p.encrypted,
      KmsKeyArn: p.kmsKeyArn,
      Timeout: p.timeoutMinutes,
    }), { abortSignal: signal }), signal);
    if (!out.SnapshotId) throw vmxError(CLOUD.BAD_RESPONSE, 'StartSnapshot answered without a SnapshotId');
    return out.SnapshotId;
  }

  /**
   * One 512 KiB block with its Base64 SHA-256 (PutSnapshotBlock; "Use EBS direct APIs checksums to
   * validate snapshot data"). A ValidationException that names the checksum is EBS_CHECKSUM_REJECTED.
   */
  async put(snapshotId: string, index: number, data: Buffer, checksum: string, progress: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('PutSnapshotBlock', () => this.ebs.send(new PutSnapshotBlockCommand({
        SnapshotId: snapshotId,
        BlockIndex: index,
        BlockData: data,
        DataLength: data.length,
        Checksum: checksum,
        ChecksumAlgorithm: 'SHA256',
        Progress: progress,
      }), { abortSignal: signal }), signal);
    } catch (err) {
      if (cloudCodeOfError(err) === 'ValidationException' && /checksum/i.test((err as Error).message)) {
        throw vmxError(EBS.CHECKSUM_REJECTED, `EBS refused block ${index} (offset ${index * EBS_BLOCK}) of ${snapshotId}: its checksum ${checksum} did not match the bytes received`, { cause: err });
      }
      throw err;
    }
  }

  /** CompleteSnapshot with the count of written blocks and their LINEAR aggregate SHA-256; EBS's status word. */
  async complete(snapshotId: string, changedBlocks: number, aggregate: string, signal?: AbortSignal): Promise<string> {
    const out = await this.call('CompleteSnapshot', () => this.ebs.send(new CompleteSnapshotCommand({
      SnapshotId: snapshotId,
      ChangedBlocksCount: changedBlocks,
      Checksum: aggregate,
      ChecksumAlgorithm: 'SHA256',
      ChecksumAggregationMethod: 'LINEAR',
    }), { abortSignal: signal }), signal);
    return out.Status ?? 'pending';
  }

  /**
   * The blocks a completed snapshot holds (ListSnapshotBlocks: "only the block indexes and tokens of
   * blocks that have data written"), page after page; and its volume size in GiB.
   */
  async blocks(snapshotId: string, signal?: AbortSignal): Promise<{ volumeSizeGiB: number; blocks: BlockSet }> {
    let token: string | undefined;
    let set: BlockSet | undefined;
    do {
      const page = await this.call('ListSnapshotBlocks', () => this.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, NextToken: token, MaxResults: 10_000 }), { abortSignal: signal }), signal);
      if (page.VolumeSize === undefined) throw vmxError(CLOUD.BAD_RESPONSE, `ListSnapshotBlocks of ${snapshotId} answered without a VolumeSize`);
      set ??= new BlockSet((page.VolumeSize * 1024 ** 3) / EBS_BLOCK);
      for (const b of page.Blocks ?? []) if (b.BlockIndex !== undefined) set.add(b.BlockIndex);
      token = page.NextToken || undefined;
    } while (token);
    return { volumeSizeGiB: (set.blocks * EBS_BLOCK) / 1024 ** 3, blocks: set };
  }

  /** The snapshot's state from EC2 DescribeSnapshots (the EBS direct APIs have no describe call); undefined when EC2 does not know it. */
  async state(snapshotId: string, signal?: AbortSignal): Promise<SnapshotState | undefined> {
    try {
      const out = await this.call('DescribeSnapshots', () => this.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }), { abortSignal: signal }), signal);
      const s = out.Snapshots?.find((x) => x.SnapshotId === snapshotId);
      if (!s?.State) return undefined;
      const progress = s.Progress ? Number.parseInt(s.Progress, 10) : undefined;
      return { state: s.State, message: s.StateMessage ?? '', progress: Number.isFinite(progress) ? progress : undefined };
    } catch (err) {
      if (cloudCodeOfError(err) === 'InvalidSnapshot.NotFound') return undefined;
      throw err;
    }
  }
}

/** PutSnapshotBlock's x-amz-Checksum: the Base64 SHA-256 of the block. */
export function blockDigest(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
