import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeErrors, FakeOssError } from './fake-oss-error.js';
import { FakeFaults } from './fake-faults.js';
import { classifyOperation, type FakeRequest, type FakeResponse } from './fake-request.js';
import { FakeStore } from './fake-store.js';
import { verifySignatureV1 } from './fake-signature-v1.js';
import { deleteObject, getObject, headObject, putObject } from './object-operations.js';
import { deleteBucket, listObjects, putBucket } from './bucket-operations.js';
import { getObjectTagging, putObjectTagging } from './tagging-operations.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  initiateMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart-operations.js';

/**
 * The OSS protocol fake: a protocol-level stand-in for Alibaba Cloud OSS, written from the OSS API
 * reference because no OSS server can run here. node:http on 127.0.0.1, path-style buckets
 * ("/bucket/key", what ali-oss sends with `sldEnable: true`), V1 signatures verified, in-memory
 * storage bounded by `capacityBytes`, and fault hooks for tests. It is a fake, not OSS: it
 * implements only the operations vmxfer uses and answers NotImplemented for the rest.
 */

export interface OssProtocolFakeOptions {
  /** AccessKeyId -> AccessKeySecret accepted by the fake. */
  credentials?: Record<string, string>;
  /** Total bytes of objects and parts kept in memory (default 256 MiB). */
  capacityBytes?: number;
  /** Buckets to create at start. */
  buckets?: string[];
}

export interface FakeRequestRecord {
  operation: string;
  /** Body bytes the request carried: what crossed the wire into the store. */
  bytesIn?: number | undefined;
  method: string;
  url: string;
  status: number;
  code?: string | undefined;
  /** The Host header the request came with. */
  host?: string | undefined;
}

export interface OssProtocolFake {
  /** `http://localhost:PORT`, for ali-oss with `sldEnable: true`. */
  readonly endpoint: string;
  readonly port: number;
  readonly store: FakeStore;
  readonly faults: FakeFaults;
  /** Every request served, in order. */
  readonly requests: FakeRequestRecord[];
  close(): Promise<void>;
}

export const FAKE_ACCESS_KEY_ID = 'LTAIfakeOssProtocolKey';
export const FAKE_ACCESS_KEY_SECRET = 'fake-oss-protocol-secret-not-a-real-key';

type Operation = (req: FakeRequest) => FakeResponse;
const OPERATIONS: Record<string, Operation> = {
  PutBucket: putBucket,
  DeleteBucket: deleteBucket,
  ListObjects: listObjects,
  ListObjectsV2: listObjects,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  PutObjectTagging: putObjectTagging,
  GetObjectTagging: getObjectTagging,
  InitiateMultipartUpload: initiateMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  ListParts: listParts,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListMultipartUploads: listMultipartUploads,
};

const HOST_ID = 'oss-protocol-fake.localhost';

function splitPath(pathname: string): { bucket: string | undefined; key: string | undefined } {
  const rest = pathname.replace(/^\//, '');
  if (rest === '') return { bucket: undefined, key: undefined };
  const slash = rest.indexOf('/');
  if (slash < 0 || slash === rest.length - 1) return { bucket: decodeURIComponent(rest.replace(/\/$/, '')), key: undefined };
  return { bucket: decodeURIComponent(rest.slice(0, slash)), key: decodeURIComponent(rest.slice(slash + 1)) };
}

/** Reads the body, refusing more than `limit` bytes (the store's free space). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw FakeErrors.entityTooLarge(`The body of ${declared} bytes exceeds the ${limit} bytes the OSS protocol fake can still hold.`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw FakeErrors.entityTooLarge(`The body exceeds the ${limit} bytes the OSS protocol fake can still hold.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, method: string, requestId: string, out: FakeResponse): void {
  const body = out.body === undefined ? Buffer.alloc(0) : Buffer.from(out.body);
  res.statusCode = out.status;
  res.setHeader('x-oss-request-id', requestId);
  res.setHeader('Server', 'OssProtocolFake');
  res.setHeader('Date', new Date().toUTCString());
  for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
  if (method === 'HEAD') {
    res.end();
    return;
  }
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}

/**
 * An error answer. HEAD responses carry no body, so OSS puts the error document base64-encoded in
 * an `x-oss-err` header instead (which ali-oss decodes).
 */
function errorResponse(err: FakeOssError, method: string, requestId: string): FakeResponse {
  const xml = err.toXml(requestId, HOST_ID);
  const headers: Record<string, string> = { 'Content-Type': 'application/xml', 'x-oss-ec': '0000-00000000' };
  if (method === 'HEAD') headers['x-oss-err'] = Buffer.from(xml).toString('base64');
  return { status: err.status, headers, body: xml };
}

class FakeServer {
  readonly requests: FakeRequestRecord[] = [];
  readonly faults = new FakeFaults();

  constructor(
    readonly store: FakeStore,
    private readonly credentials: ReadonlyMap<string, string>,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const { bucket, key } = splitPath(url.pathname);
    const operation = classifyOperation(method, bucket, key, url.searchParams, req.headers);
    const requestId = randomBytes(12).toString('hex').toUpperCase();
    const record: FakeRequestRecord = { operation, method, url: req.url ?? '/', status: 0, host: req.headers.host };
    this.requests.push(record);
    let out: FakeResponse;
    try {
      const fault = this.faults.take(operation);
      if (fault?.kind === 'reset') {
        record.code = 'FakeConnectionReset';
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'delay') await sleep(fault.ms);
      const body = await readBody(req, this.store.capacity - this.store.bytesUsed);
      record.bytesIn = body.length;
      if (fault?.kind === 'corrupt' && body.length > 0) body[0] = body[0]! ^ 0xff;
      if (fault?.kind === 'error') throw new FakeOssError(fault.status, fault.code, fault.message ?? `Injected ${fault.code} (OSS protocol fake fault).`);
      const resource = bucket === undefined ? '/' : key === undefined ? `/${bucket}/` : `/${bucket}/${key}`;
      verifySignatureV1({ method, headers: req.headers, resource, query: url.searchParams }, this.credentials);
      const op = OPERATIONS[operation];
      if (!op) throw FakeErrors.notImplemented(`${method} ${url.pathname}${url.search}`);
      out = op({ method, headers: req.headers, bucket, key, query: url.searchParams, body, operation, store: this.store });
      if (fault?.kind === 'header') out.headers[fault.name] = fault.value;
    } catch (err) {
      const fakeErr = err instanceof FakeOssError ? err : new FakeOssError(500, 'InternalError', `OSS protocol fake bug: ${String(err)}`);
      record.code = fakeErr.code;
      out = errorResponse(fakeErr, method, requestId);
      if (fakeErr.code === 'EntityTooLarge') res.setHeader('Connection', 'close');
    }
    record.status = out.status;
    send(res, method, requestId, out);
  }
}

export async function startOssProtocolFake(opts: OssProtocolFakeOptions = {}): Promise<OssProtocolFake> {
  const credentials = new Map(Object.entries(opts.credentials ?? { [FAKE_ACCESS_KEY_ID]: FAKE_ACCESS_KEY_SECRET }));
  const store = new FakeStore(opts.capacityBytes ?? 256 * 1024 * 1024);
  for (const b of opts.buckets ?? []) store.createBucket(b);
  const fake = new FakeServer(store, credentials);
  const server: Server = createServer((req, res) => {
    fake.handle(req, res).catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://localhost:${port}`,
    port,
    store,
    faults: fake.faults,
    requests: fake.requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
