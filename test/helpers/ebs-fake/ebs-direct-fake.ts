import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { BLOCK, chainIndexes, EbsError, linearAggregate, resolveBlock, sha256b64, snapId, writeVolume, type FakeSnapshot } from './snapshots.js';

export interface EbsCall {
  action: string;
  snapshotId?: string | undefined;
  blockIndex?: number | undefined;
  /** The HTTP status the fake answered. */
  status: number;
}

const OWNER = '123456789012';

/**
 * A protocol fake of the EBS direct APIs (API version 2019-11-02, REST-JSON), written from the API
 * reference: StartSnapshot, PutSnapshotBlock, CompleteSnapshot, ListSnapshotBlocks, GetSnapshotBlock,
 * their request and response shapes, checksums, error types and reasons. It serves on the EC2 fake's
 * endpoint (requests signed for the service "ebs"), logs every call, can throttle, fail, corrupt or
 * expire, and writes any snapshot's volume, parents resolved, to a file.
 */
export class EbsDirectFake {
  readonly snapshots = new Map<string, FakeSnapshot>();
  readonly calls: EbsCall[] = [];
  /** Action → how many of its next calls answer RequestThrottledException. */
  readonly throttle = new Map<string, number>();
  /** Action → how many of its next calls answer InternalServerException. */
  readonly internalErrors = new Map<string, number>();
  /** PutSnapshotBlock calls whose body arrives with a flipped byte (the checksum no longer matches). */
  corruptNext = 0;
  /** DescribeSnapshots answers that stay `pending` after CompleteSnapshot. */
  completionPolls = 1;
  /** Delay before each PutSnapshotBlock answer, so a test can kill a process mid-upload. */
  putDelayMs = 0;

  /** `completed` is told to the EC2 side (ImportImage takes the snapshot as a disk container from then on). */
  constructor(private readonly onCompleted: (id: string) => void = () => undefined) {}

  callsOf(action: string): EbsCall[] {
    return this.calls.filter((c) => c.action === action && c.status < 300);
  }

  /** Cancels a pending snapshot as EBS does once its timeout passes without writes. */
  expire(id: string): void {
    const s = this.get(id);
    s.status = 'error';
    s.statusMessage = 'The snapshot was cancelled: no blocks were written within its timeout.';
  }

  /** The snapshot's state as EC2 DescribeSnapshots reports it (served by the EC2 fake). */
  describe(id: string): { state: string; message: string; progress: string; volumeSize: number; encrypted: boolean } | undefined {
    const s = this.snapshots.get(id);
    if (!s) return undefined;
    if (s.status === 'pending' && s.pendingPolls === 0) {
      s.status = 'completed';
      this.onCompleted(s.id);
    }
    else if (s.status === 'pending' && s.pendingPolls > 0 && s.pendingPolls !== Infinity) s.pendingPolls--;
    return { state: s.status, message: s.statusMessage, progress: s.status === 'completed' ? '100%' : '0%', volumeSize: s.volumeSize, encrypted: s.encrypted };
  }

  writeVolume(id: string, path: string, size: number): Promise<void> {
    return writeVolume(this.snapshots, this.get(id), path, size);
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const call: EbsCall = { action: 'unknown', status: 0 };
    this.calls.push(call);
    try {
      const out = await this.route(req, url, body, call);
      call.status = out.status;
      res.writeHead(out.status, { 'x-amzn-requestid': randomUUID(), ...(out.headers ?? {}), ...(out.json !== undefined ? { 'content-type': 'application/json' } : {}) });
      res.end(out.json !== undefined ? JSON.stringify(out.json) : out.raw);
    } catch (err) {
      if (!(err instanceof EbsError)) throw err;
      call.status = err.status;
      // REST-JSON errors: the type in x-amzn-ErrorType, Message (and Reason where the shape has one) in the body.
      res.writeHead(err.status, { 'content-type': 'application/json', 'x-amzn-errortype': err.type, 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ Message: err.message, ...(err.reason ? { Reason: err.reason } : {}) }));
    }
  }

  private async route(req: IncomingMessage, url: URL, body: Buffer, call: EbsCall): Promise<Answer> {
    const path = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const m = req.method;
    if (m === 'POST' && path.length === 1 && path[0] === 'snapshots') return this.gate(call, 'StartSnapshot', () => this.start(body));
    if (m === 'POST' && path.length === 3 && path[1] === 'completion') return this.gate(call, 'CompleteSnapshot', () => this.complete(path[2]!, req), path[2]);
    if (m === 'PUT' && path.length === 4 && path[2] === 'blocks') return this.gate(call, 'PutSnapshotBlock', () => this.put(path[1]!, Number(path[3]), req, body), path[1], Number(path[3]));
    if (m === 'GET' && path.length === 3 && path[2] === 'blocks') return this.gate(call, 'ListSnapshotBlocks', () => this.list(path[1]!, url), path[1]);
    if (m === 'GET' && path.length === 4 && path[2] === 'blocks') return this.gate(call, 'GetSnapshotBlock', () => this.getBlock(path[1]!, Number(path[3]), url), path[1], Number(path[3]));
    throw new EbsError(404, 'ResourceNotFoundException', `No route for ${m} ${url.pathname}`);
  }

  private async gate(call: EbsCall, action: string, run: () => Answer | Promise<Answer>, snapshotId?: string, blockIndex?: number): Promise<Answer> {
    Object.assign(call, { action, snapshotId, blockIndex });
    if (countDown(this.throttle, action)) throw new EbsError(400, 'RequestThrottledException', 'The number of API requests has exceeded the maximum allowed API request throttling limit for the snapshot.', 'RESOURCE_LEVEL_THROTTLE');
    if (countDown(this.internalErrors, action)) throw new EbsError(500, 'InternalServerException', 'An internal error has occurred.');
    if (action === 'PutSnapshotBlock' && this.putDelayMs > 0) await new Promise((r) => setTimeout(r, this.putDelayMs));
    return run();
  }

  private get(id: string): FakeSnapshot {
    const s = this.snapshots.get(id);
    if (!s) throw new EbsError(404, 'ResourceNotFoundException', `The snapshot ${id} does not exist.`, 'SNAPSHOT_NOT_FOUND');
    return s;
  }

  /** StartSnapshot: VolumeSize 1-65536 GiB, a completed parent no larger, KmsKeyArn only with Encrypted, Timeout 10-4320 minutes, ClientToken idempotency. */
  private start(body: Buffer): Answer {
    const p = JSON.parse(body.toString('utf8') || '{}') as Record<string, any>;
    const token = typeof p.ClientToken === 'string' ? p.ClientToken : undefined;
    const request = JSON.stringify({ ...p, ClientToken: undefined });
    const same = token ? [...this.snapshots.values()].find((s) => s.clientToken === token) : undefined;
    if (same) {
      if (same.request !== request) throw new EbsError(409, 'ConflictException', 'The request uses the same client token as a previous, but non-identical request.');
      return started(same);
    }
    const size = p.VolumeSize;
    if (!Number.isInteger(size) || size < 1 || size > 65536) throw new EbsError(400, 'ValidationException', `VolumeSize ${size} is not from 1 to 65536 GiB`, 'INVALID_VOLUME_SIZE');
    if (p.ParentSnapshotId !== undefined) {
      const parent = this.get(p.ParentSnapshotId);
      if (parent.status !== 'completed') throw new EbsError(400, 'ValidationException', `The parent snapshot ${parent.id} is not completed`, 'INVALID_DEPENDENCY_REQUEST');
      if (parent.volumeSize > size) throw new EbsError(400, 'ValidationException', `VolumeSize ${size} is smaller than the parent's ${parent.volumeSize}`, 'INVALID_VOLUME_SIZE');
    }
    if (p.KmsKeyArn !== undefined && p.Encrypted !== true) throw new EbsError(400, 'ValidationException', 'KmsKeyArn requires Encrypted set to true', 'INVALID_PARAMETER_VALUE');
    if (p.Timeout !== undefined && (!Number.isInteger(p.Timeout) || p.Timeout < 10 || p.Timeout > 4320)) throw new EbsError(400, 'ValidationException', `Timeout ${p.Timeout} is not from 10 to 4320 minutes`, 'INVALID_PARAMETER_VALUE');
    const s: FakeSnapshot = {
      id: snapId(), volumeSize: size, parentId: p.ParentSnapshotId, status: 'pending', statusMessage: '', description: p.Description,
      tags: p.Tags ?? [], encrypted: p.Encrypted === true, kmsKeyArn: p.KmsKeyArn, timeout: p.Timeout ?? 60, startTime: Date.now() / 1000,
      clientToken: token, request, own: new Map(), pendingPolls: Infinity,
    };
    this.snapshots.set(s.id, s);
    return started(s);
  }

  /** PutSnapshotBlock: a pending snapshot, an index inside the volume, 512 KiB of data, its SHA-256 in Base64. */
  private put(id: string, index: number, req: IncomingMessage, body: Buffer): Answer {
    const s = this.get(id);
    if (s.status !== 'pending') throw new EbsError(400, 'ValidationException', `The snapshot ${id} is ${s.status}, not pending`, 'INVALID_SNAPSHOT_ID');
    if (!Number.isInteger(index) || index < 0 || index >= (s.volumeSize * 1024 ** 3) / BLOCK) throw new EbsError(400, 'ValidationException', `Block index ${index} is outside the volume`, 'INVALID_BLOCK');
    const length = Number(req.headers['x-amz-data-length']);
    if (length !== BLOCK || body.length !== BLOCK) throw new EbsError(400, 'ValidationException', `Data must be 524288 bytes (x-amz-Data-Length ${length}, body ${body.length})`, 'INVALID_BLOCK');
    if (req.headers['x-amz-checksum-algorithm'] !== 'SHA256') throw new EbsError(400, 'ValidationException', 'Only SHA256 checksums are supported', 'INVALID_PARAMETER_VALUE');
    const progress = req.headers['x-amz-progress'];
    if (progress !== undefined && !(Number(progress) >= 0 && Number(progress) <= 100)) throw new EbsError(400, 'ValidationException', `Progress ${progress} is not from 0 to 100`, 'INVALID_PARAMETER_VALUE');
    const data = Buffer.from(body);
    if (this.corruptNext > 0) {
      this.corruptNext--;
      data[12345] ^= 0xff;
    }
    const checksum = req.headers['x-amz-checksum'];
    if (checksum !== sha256b64(data)) throw new EbsError(400, 'ValidationException', `The checksum ${String(checksum)} does not match the data received`);
    s.own.set(index, data);
    return { status: 201, headers: { 'x-amz-Checksum': sha256b64(data), 'x-amz-Checksum-Algorithm': 'SHA256' }, raw: '' };
  }

  /**
   * CompleteSnapshot: answers `pending`; the snapshot turns `completed` after `completionPolls`
   * DescribeSnapshots, or `error` when the written-block count or the LINEAR aggregate is not its own.
   */
  private complete(id: string, req: IncomingMessage): Answer {
    const s = this.get(id);
    if (s.status !== 'pending' || s.pendingPolls !== Infinity) throw new EbsError(400, 'ValidationException', `The snapshot ${id} is not pending`, 'INVALID_SNAPSHOT_ID');
    const count = Number(req.headers['x-amz-changedblockscount']);
    const checksum = req.headers['x-amz-checksum'];
    if (checksum !== undefined && (req.headers['x-amz-checksum-algorithm'] !== 'SHA256' || req.headers['x-amz-checksum-aggregation-method'] !== 'LINEAR')) {
      throw new EbsError(400, 'ValidationException', 'A checksum needs x-amz-Checksum-Algorithm SHA256 and x-amz-Checksum-Aggregation-Method LINEAR', 'INVALID_PARAMETER_VALUE');
    }
    if (count !== s.own.size) {
      s.status = 'error';
      s.statusMessage = `ChangedBlocksCount ${count} but ${s.own.size} blocks were written`;
    } else if (checksum !== undefined && checksum !== linearAggregate(s)) {
      s.status = 'error';
      s.statusMessage = 'The aggregate checksum does not match the written blocks';
    }
    s.pendingPolls = this.completionPolls;
    return { status: 202, json: { Status: 'pending' } };
  }

  /** ListSnapshotBlocks: a completed snapshot's blocks (its chain's), in index order, pages of MaxResults (at least 100). */
  private list(id: string, url: URL): Answer {
    const s = this.completed(id);
    const max = Math.max(100, Number(url.searchParams.get('maxResults') ?? 10_000));
    const token = url.searchParams.get('pageToken');
    const from = token ? Number(Buffer.from(token, 'base64').toString('utf8').split(':')[1]) : Number(url.searchParams.get('startingBlockIndex') ?? 0);
    const all = chainIndexes(this.snapshots, s).filter((i) => i >= from);
    const page = all.slice(0, max);
    const next = all[max];
    return {
      status: 200,
      json: {
        Blocks: page.map((i) => ({ BlockIndex: i, BlockToken: blockToken(s.id, i) })),
        ExpiryTime: Date.now() / 1000 + 7 * 86400,
        VolumeSize: s.volumeSize,
        BlockSize: BLOCK,
        ...(next !== undefined ? { NextToken: Buffer.from(`${s.id}:${next}`).toString('base64') } : {}),
      },
    };
  }

  private getBlock(id: string, index: number, url: URL): Answer {
    const s = this.completed(id);
    if (url.searchParams.get('blockToken') !== blockToken(s.id, index)) throw new EbsError(400, 'ValidationException', 'The block token is not valid', 'INVALID_BLOCK_TOKEN');
    const data = resolveBlock(this.snapshots, s, index);
    if (!data) throw new EbsError(400, 'ValidationException', `Block ${index} holds no data`, 'INVALID_BLOCK');
    return { status: 200, headers: { 'x-amz-Data-Length': String(data.length), 'x-amz-Checksum': sha256b64(data), 'x-amz-Checksum-Algorithm': 'SHA256', 'content-type': 'application/octet-stream' }, raw: data };
  }

  /** "Can a snapshot be accessed using the EBS direct APIs if it has a pending status? No." (EBS direct APIs FAQ) */
  private completed(id: string): FakeSnapshot {
    const s = this.get(id);
    if (s.status !== 'completed') throw new EbsError(400, 'ValidationException', `The snapshot ${id} is ${s.status}, not completed`, 'INVALID_SNAPSHOT_ID');
    return s;
  }
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: Buffer | string;
}

function countDown(m: Map<string, number>, action: string): boolean {
  const n = m.get(action) ?? 0;
  if (n <= 0) return false;
  m.set(action, n - 1);
  return true;
}

function blockToken(id: string, index: number): string {
  return Buffer.from(`block:${id}:${index}`).toString('base64');
}

function started(s: FakeSnapshot): Answer {
  return {
    status: 201,
    json: {
      Description: s.description, SnapshotId: s.id, OwnerId: OWNER, Status: s.status, StartTime: s.startTime, VolumeSize: s.volumeSize, BlockSize: BLOCK,
      Tags: s.tags, ParentSnapshotId: s.parentId, KmsKeyArn: s.kmsKeyArn, SseType: s.encrypted ? 'sse-kms' : 'none',
    },
  };
}
