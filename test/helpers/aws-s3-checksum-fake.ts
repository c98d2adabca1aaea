import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { combineCrc64, crc64, crc64ToS3, parseS3Crc64 } from '../../agent/hashing/crc64.js';
import { combineCrc32c, crc32c, crc32cToS3, parseS3Crc32c } from '../../agent/hashing/crc32c.js';

/**
 * A PROTOCOL FAKE of AWS S3's additional checksums, written from the S3 API reference
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, HeadObject: x-amz-checksum-*) and
 * the User Guide's "Checking object integrity", placed in front of a real store (Ceph RGW, which
 * ignores these headers: test/sinks/rgw-checksums.test.ts). Everything else is RGW's own answer.
 * What it adds, as AWS does for CRC-64/NVME and CRC-32C (the two CRCs vmxfer sends; the User
 * Guide lists both, with CRC-32, as supporting the FULL_OBJECT checksum type):
 * - UploadPart with x-amz-checksum-crc64nvme or x-amz-checksum-crc32c: the CRC of the bytes
 *   received must equal it, else 400 BadDigest and nothing is stored; the value is echoed.
 * - CompleteMultipartUpload of an upload created with x-amz-checksum-algorithm CRC64NVME or CRC32C
 *   and x-amz-checksum-type FULL_OBJECT: the object's CRC is the listed parts' combined; a
 *   x-amz-checksum-<algorithm> header that differs is refused with 400 BadDigest.
 * - HeadObject with x-amz-checksum-mode: ENABLED returns x-amz-checksum-<algorithm> and
 *   x-amz-checksum-type: FULL_OBJECT for such an object.
 * It is not AWS: it models only these checksum rules.
 */
export interface AwsS3ChecksumFake {
  endpoint: string;
  /** UploadPart requests it refused with BadDigest, and Completes it refused. */
  readonly refused: { parts: number; completes: number };
  close(): Promise<void>;
}

/** A CRC S3 verifies and combines, as its header spells it. */
interface CrcRule {
  header: string;
  name: string;
  of(body: Buffer): string;
  /** The CRC of the concatenation of parts, from their values and sizes. */
  combine(parts: ReadonlyArray<{ crc: string; size: number }>): string;
}

const CRC_RULES: Record<string, CrcRule> = {
  CRC64NVME: {
    header: 'x-amz-checksum-crc64nvme',
    name: 'CRC64NVME',
    of: (body) => crc64ToS3(crc64('nvme', body)),
    combine: (parts) => crc64ToS3(parts.reduce((acc, p) => combineCrc64('nvme', acc, parseS3Crc64(p.crc, { source: 'fake' }), p.size), 0n)),
  },
  CRC32C: {
    header: 'x-amz-checksum-crc32c',
    name: 'CRC32C',
    of: (body) => crc32cToS3(crc32c(body)),
    combine: (parts) => crc32cToS3(parts.reduce((acc, p) => combineCrc32c(acc, parseS3Crc32c(p.crc, { source: 'fake' }), p.size), 0)),
  },
};

interface PendingUpload {
  /** The FULL_OBJECT algorithm the upload was created with, if any. */
  fullObject: CrcRule | undefined;
  /** Part number → the part's CRC of that algorithm, size and ETag, for the last part stored under it. */
  parts: Map<number, { crc: string; size: number; etag: string }>;
}

export async function startAwsS3ChecksumFake(target: string): Promise<AwsS3ChecksumFake> {
  const upstream = new URL(target);
  const uploads = new Map<string, PendingUpload>();
  const objects = new Map<string, { rule: CrcRule; crc: string }>();
  const refused = { parts: 0, completes: 0 };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const q = url.searchParams;
    const body = await readAll(req);
    const method = req.method ?? 'GET';
    const uploadId = q.get('uploadId');
    if (method === 'PUT' && uploadId !== null && q.has('partNumber')) return uploadPart(req, res, body, uploadId, Number(q.get('partNumber')));
    if (method === 'POST' && uploadId !== null) return complete(req, res, body, url.pathname, uploadId);
    if (method === 'POST' && q.has('uploads')) return createUpload(req, res, body);
    if (method === 'HEAD') {
      const whole = objects.get(url.pathname);
      const enabled = String(req.headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED';
      const extra: Record<string, string> = whole !== undefined && enabled ? { [whole.rule.header]: whole.crc, 'x-amz-checksum-type': 'FULL_OBJECT' } : {};
      return forward(req, res, body, (status) => (status === 200 ? extra : {}));
    }
    // A new object at the key (PutObject, DeleteObject) drops the old one's checksum; tagging leaves it.
    if ((method === 'DELETE' && uploadId === null) || (method === 'PUT' && !q.has('tagging'))) objects.delete(url.pathname);
    return forward(req, res, body);
  }

  async function createUpload(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const algorithm = String(req.headers['x-amz-checksum-algorithm'] ?? '').toUpperCase();
    const type = String(req.headers['x-amz-checksum-type'] ?? '').toUpperCase();
    const answer = await upstreamCall(req, body);
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(answer.body.toString())?.[1];
    if (answer.status === 200 && id !== undefined) uploads.set(id, { fullObject: type === 'FULL_OBJECT' ? CRC_RULES[algorithm] : undefined, parts: new Map() });
    const extra: Record<string, string> = algorithm ? { 'x-amz-checksum-algorithm': algorithm, 'x-amz-checksum-type': type || 'COMPOSITE' } : {};
    reply(res, answer, extra);
  }

  async function uploadPart(req: IncomingMessage, res: ServerResponse, body: Buffer, uploadId: string, partNumber: number): Promise<void> {
    const echoed: Record<string, string> = {};
    for (const rule of Object.values(CRC_RULES)) {
      const claimed = req.headers[rule.header] as string | undefined;
      if (claimed === undefined) continue;
      if (claimed !== rule.of(body)) {
        refused.parts++;
        return s3Error(res, 400, 'BadDigest', `The ${rule.name} you specified did not match the calculated checksum.`);
      }
      echoed[rule.header] = claimed;
    }
    const answer = await upstreamCall(req, body);
    const upload = uploads.get(uploadId);
    if (answer.status === 200 && upload?.fullObject) upload.parts.set(partNumber, { crc: upload.fullObject.of(body), size: body.length, etag: bare(String(answer.headers.etag ?? '')) });
    reply(res, answer, echoed);
  }

  async function complete(req: IncomingMessage, res: ServerResponse, body: Buffer, path: string, uploadId: string): Promise<void> {
    const upload = uploads.get(uploadId);
    const rule = upload?.fullObject;
    let whole: string | undefined;
    if (upload && rule) {
      // A part that is missing or named by another ETag is InvalidPart, which the store itself answers.
      const listed = [...body.toString().matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => {
        const stored = upload.parts.get(Number(/<PartNumber>\s*(\d+)\s*</.exec(m[1]!)?.[1]));
        return stored && stored.etag === bare(/<ETag>([^<]*)</.exec(m[1]!)?.[1] ?? '') ? stored : undefined;
      });
      if (listed.length > 0 && listed.every((p) => p !== undefined)) whole = rule.combine(listed.map((p) => p!));
      const claimed = req.headers[rule.header] as string | undefined;
      if (claimed !== undefined && whole !== undefined && claimed !== whole) {
        refused.completes++;
        return s3Error(res, 400, 'BadDigest', `The ${rule.name} you specified did not match the calculated checksum.`);
      }
    }
    const answer = await upstreamCall(req, body);
    if (answer.status === 200 && upload) {
      uploads.delete(uploadId);
      if (whole !== undefined && rule) objects.set(path, { rule, crc: whole });
      else objects.delete(path);
    }
    reply(res, answer, whole !== undefined && rule ? { [rule.header]: whole, 'x-amz-checksum-type': 'FULL_OBJECT' } : {});
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, extra: (status: number) => Record<string, string> = () => ({})): void {
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, { ...upRes.headers, ...extra(upRes.statusCode ?? 0) });
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  }

  function upstreamCall(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        readAll(upRes).then((b) => resolve({ status: upRes.statusCode ?? 502, headers: upRes.headers, body: b }), reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function bare(etag: string): string {
  return etag.replace(/&quot;|"/g, '').toLowerCase();
}

function reply(res: ServerResponse, answer: { status: number; headers: IncomingMessage['headers']; body: Buffer }, extra: Record<string, string>): void {
  const headers = { ...answer.headers, ...(answer.status === 200 ? extra : {}) };
  delete headers['transfer-encoding'];
  res.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) });
  res.end(answer.body);
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>aws-s3-checksum-fake</RequestId></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
